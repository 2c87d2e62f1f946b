/**
 * Which gateway a connection attempt goes to: round robin over the configured URLs, after any a
 * `goaway` suggested. With no URLs (the host routes attempts itself), the attempt number.
 */
export class GatewayRotation {
  private nextIndex = 0;
  /** Attempts made so far (the next one's number). */
  private attempts = 0;
  /** URLs a `goaway` pointed at, tried before resuming the round robin. */
  private redirects: string[] | undefined;

  constructor(private readonly urls: readonly string[]) {}

  /** The next attempt's number (from 0) and URL (undefined when none are configured). */
  next(): { attempt: number; url: string | undefined } {
    const attempt = this.attempts++;
    const redirected = this.redirects?.shift();
    if (this.redirects?.length === 0) this.redirects = undefined;
    if (redirected !== undefined) return { attempt, url: redirected };
    if (this.urls.length === 0) return { attempt, url: undefined };
    const url = this.urls[this.nextIndex % this.urls.length]!;
    this.nextIndex = (this.nextIndex + 1) % this.urls.length;
    return { attempt, url };
  }

  /** A `goaway` listed other gateways: try them first. */
  redirect(urls: readonly string[] | undefined): void {
    if (urls && urls.length > 0) this.redirects = [...urls];
  }
}
