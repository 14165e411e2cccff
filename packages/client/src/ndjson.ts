// Splits a byte stream into lines: watch events are one JSON object per line, and chunks cut anywhere,
// even inside a multi-byte UTF-8 character.

const streaming = { stream: true };

export class LineSplitter {
  private readonly decoder = new TextDecoder('utf-8');
  private rest = '';

  /** Feeds a chunk; returns the complete, non-blank lines it finished. */
  push(chunk: Uint8Array | string): string[] {
    const text = this.rest + (typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, streaming));
    // One pass with indexOf rather than split + map + filter: a watch delivers a chunk per event.
    const lines: string[] = [];
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const line = text.slice(start, nl).trim();
      if (line.length > 0) lines.push(line);
      start = nl + 1;
    }
    this.rest = start === 0 ? text : text.slice(start);
    return lines;
  }

  /** The last line when the stream ended without a newline. */
  flush(): string[] {
    const last = (this.rest + this.decoder.decode()).trim();
    this.rest = '';
    return last ? [last] : [];
  }
}
