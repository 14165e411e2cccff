// Splits a byte stream into lines: watch events are one JSON object per line, and chunks cut anywhere,
// even inside a multi-byte UTF-8 character.

export class LineSplitter {
  private readonly decoder = new TextDecoder('utf-8');
  private rest = '';

  /** Feeds a chunk; returns the complete, non-blank lines it finished. */
  push(chunk: Uint8Array | string): string[] {
    this.rest += typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    const parts = this.rest.split('\n');
    this.rest = parts.pop() ?? '';
    return parts.map((l) => l.trim()).filter((l) => l.length > 0);
  }

  /** The last line when the stream ended without a newline. */
  flush(): string[] {
    const last = (this.rest + this.decoder.decode()).trim();
    this.rest = '';
    return last ? [last] : [];
  }
}
