/**
 * Which gateway URL a connection attempt goes to: round robin over the configured URLs, after any
 * a `goaway` suggested. Made only when there are URLs to rotate (the simulator routes attempts
 * itself, by their number).
 */
export class GatewayRotation {
  private nextIndex = 0;
  /** URLs a `goaway` pointed at, tried before resuming the round robin. */
  private redirects: string[] | undefined;

  constructor(private readonly urls: readonly string[]) {}

  /** The next attempt's URL (undefined when none are configured and no goaway named any). */
  next(): string | undefined {
    const redirected = this.redirects?.shift();
    if (this.redirects?.length === 0) this.redirects = undefined;
    if (redirected !== undefined) return redirected;
    if (this.urls.length === 0) return undefined;
    const url = this.urls[this.nextIndex % this.urls.length]!;
    this.nextIndex = (this.nextIndex + 1) % this.urls.length;
    return url;
  }

  /** A `goaway` listed other gateways: try them first. */
  redirect(urls: readonly string[]): void {
    if (urls.length > 0) this.redirects = [...urls];
  }
}
