/** A backoff sleep that shutdown (or a flush) can cut short. */
export class RetryWait {
  private wake: (() => void) | null = null;

  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /** Ends the current sleep, if any, at once. */
  interrupt(): void {
    this.wake?.();
  }
}
