// Content negotiation: server-side Table requests (Accept) and request body media types.

export interface TableRequest { version: 'v1' | 'v1beta1' }

/** kubectl get sends `application/json;as=Table;v=v1;g=meta.k8s.io,application/json`. */
export function tableRequested(accept: string | undefined): TableRequest | undefined {
  if (!accept) return undefined;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.split(';').map((s) => s.trim());
    if (type !== 'application/json' && type !== '*/*') continue;
    const p = new Map(params.map((x) => {
      const i = x.indexOf('=');
      return [x.slice(0, i).trim(), x.slice(i + 1).trim()] as [string, string];
    }));
    if (p.get('as') === 'Table' && p.get('g') === 'meta.k8s.io') {
      const v = p.get('v');
      if (v === 'v1' || v === 'v1beta1') return { version: v };
    }
  }
  return undefined;
}

/** The media type without parameters, lower-cased ("application/json; charset=utf-8" → "application/json"). */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}
