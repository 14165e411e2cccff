// Who sent a request: x509 client certificates (CN = user, O = groups) verified against
// --client-ca-file by the TLS layer, and bearer tokens from --token-auth-file. Like
// kube-apiserver's union authenticator: any success wins; presented but invalid credentials → 401.
import { stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { ANONYMOUS_USER, AUTHENTICATED_GROUP, MASTERS_GROUP, UNAUTHENTICATED_GROUP, readTokenFile, type TokenEntry, type UserInfo } from '@knet/pki';

export type AuthResult = { user: UserInfo } | { unauthorized: string };

export interface RequestAuthenticator {
  authenticate(req: IncomingMessage): Promise<AuthResult>;
}

/**
 * With no authenticator configured (plain HTTP on loopback, today's default), every request is
 * `system:unsecured` in system:masters — what kube-apiserver's old insecure port did.
 */
export const UNSECURED_USER: UserInfo = { name: 'system:unsecured', groups: [MASTERS_GROUP, AUTHENTICATED_GROUP] };
export const ANONYMOUS: UserInfo = { name: ANONYMOUS_USER, groups: [UNAUTHENTICATED_GROUP] };

export const unsecured: RequestAuthenticator = { authenticate: async () => ({ user: UNSECURED_USER }) };

function withAuthenticated(u: UserInfo): UserInfo {
  return u.groups.includes(AUTHENTICATED_GROUP) ? u : { ...u, groups: [...u.groups, AUTHENTICATED_GROUP] };
}

/**
 * Tokens from a token file, re-read when the file changes: an unknown token makes it look (one
 * stat, shared by concurrent requests), so identities `knet run` adds work at once, without
 * restarting the apiserver.
 */
export class TokenFile {
  private tokens = new Map<string, TokenEntry>();
  private version = '';
  private checking?: Promise<void>;

  private constructor(readonly path: string, private readonly onError: (err: unknown) => void) {}

  /** Loads the file; a missing or malformed file is an error at start (a clear message for the operator). */
  static async open(path: string, onError: (err: unknown) => void = () => {}): Promise<TokenFile> {
    const f = new TokenFile(path, onError);
    await f.load(await f.currentVersion());
    return f;
  }

  private async currentVersion(): Promise<string> {
    const st = await stat(this.path);
    return `${st.ino}:${st.mtimeMs}:${st.size}`;
  }

  private async load(version: string): Promise<void> {
    const entries = await readTokenFile(this.path);
    this.tokens = new Map(entries.map((e) => [e.token, e]));
    this.version = version;
  }

  private refresh(): Promise<void> {
    this.checking ??= (async () => {
      try {
        const v = await this.currentVersion();
        if (v !== this.version) await this.load(v);
      } catch (err) {
        // keep the tokens we have: a half-edited file must not lock everyone out
        this.onError(err);
      } finally {
        this.checking = undefined;
      }
    })();
    return this.checking;
  }

  async lookup(token: string): Promise<UserInfo | undefined> {
    let e = this.tokens.get(token);
    if (!e) {
      await this.refresh();
      e = this.tokens.get(token);
    }
    if (!e) return undefined;
    return { name: e.user, ...(e.uid ? { uid: e.uid } : {}), groups: [...e.groups] };
  }
}

export interface AuthenticatorOptions {
  tokens?: TokenFile;
  /** x509 client certificates are verified by the TLS server (its `ca` is the client CA). */
  clientCerts: boolean;
  anonymous: boolean;
}

type CertResult = { user: UserInfo } | { failed: string } | undefined;

/** The client certificate's identity; fixed for the connection's life, so read once per socket. */
function certIdentity(socket: TLSSocket, cache: WeakMap<TLSSocket, CertResult>): CertResult {
  if (cache.has(socket)) return cache.get(socket);
  let result: CertResult;
  const peer = socket.getPeerCertificate();
  if (peer && Object.keys(peer).length > 0) {
    const cn = peer.subject?.CN;
    const name = Array.isArray(cn) ? cn[0] : cn;
    if (socket.authorized && name) {
      const org = peer.subject.O;
      const groups = org === undefined ? [] : Array.isArray(org) ? org : [org];
      result = { user: withAuthenticated({ name, groups }) };
    } else {
      result = { failed: `x509: ${socket.authorizationError ? String(socket.authorizationError) : 'certificate has no CN'}` };
    }
  }
  cache.set(socket, result);
  return result;
}

export function requestAuthenticator(o: AuthenticatorOptions): RequestAuthenticator {
  const certs = new WeakMap<TLSSocket, CertResult>();
  return {
    async authenticate(req) {
      let failed = '';
      const socket = req.socket as TLSSocket;
      if (o.clientCerts && typeof socket.getPeerCertificate === 'function') {
        const c = certIdentity(socket, certs);
        if (c && 'user' in c) return c;
        if (c) failed = c.failed;
      }
      const header = req.headers.authorization;
      if (header !== undefined && o.tokens) {
        const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
        if (m) {
          const user = await o.tokens.lookup(m[1]!);
          if (user) return { user: withAuthenticated(user) };
          failed = 'invalid bearer token';
        } else if (!failed) failed = 'unsupported Authorization scheme';
      }
      if (failed) return { unauthorized: failed };
      if (o.anonymous) return { user: ANONYMOUS };
      return { unauthorized: 'no credentials' };
    },
  };
}
