// Connection throttling as Apache's BlueThrottle: a token bucket refilled by
// fillCount tokens every fillTime ms up to maxTokens (0 disables it), with an
// optional BLUE randomised drop that rises while the bucket stays empty
// (freezeTime != -1). With weights enabled a new session costs 3 tokens and a
// reconnect 2; otherwise every connection costs 1.

export interface ConnectionThrottleOptions {
  maxTokens: number;
  fillTimeMs: number;
  fillCount: number;
  freezeTimeMs: number;
  dropIncrease: number;
  dropDecrease: number;
  decreaseRatio: number;
  weighted: boolean;
}

export class ConnectionThrottle {
  private tokens: number;
  private lastTime: number;
  private lastFreeze: number;
  private drop = 0;
  private readonly maxTokens: number;
  private readonly fillCount: number;

  constructor(private readonly o: ConnectionThrottleOptions, nowMs: number, private readonly random: () => number = Math.random) {
    // Configured tokens are for global sessions, which weigh 3 when weights are on.
    this.maxTokens = o.weighted ? 3 * o.maxTokens : o.maxTokens;
    this.fillCount = o.weighted ? 3 * o.fillCount : o.fillCount;
    this.tokens = this.maxTokens;
    this.lastTime = nowMs;
    this.lastFreeze = nowMs;
  }

  get enabled(): boolean {
    return this.maxTokens > 0;
  }

  /** Take the tokens a connection needs; false means refuse it. */
  check(newSession: boolean, nowMs: number): boolean {
    if (this.maxTokens === 0) return true;
    const need = this.o.weighted ? (newSession ? 3 : 2) : 1;
    const diff = nowMs - this.lastTime;
    if (diff > this.o.fillTimeMs) {
      this.tokens = Math.min(this.tokens + Math.floor((diff * this.fillCount) / this.o.fillTimeMs), this.maxTokens);
      this.lastTime = nowMs;
    }
    if (this.o.freezeTimeMs !== -1 && !this.checkBlue(nowMs)) return false;
    if (this.tokens < need) return false;
    this.tokens -= need;
    return true;
  }

  private checkBlue(nowMs: number): boolean {
    const length = this.maxTokens - this.tokens;
    const threshold = Math.round(this.maxTokens * this.o.decreaseRatio);
    if (nowMs - this.lastFreeze > this.o.freezeTimeMs) {
      if (length === this.maxTokens && this.drop < 1) this.drop = Math.min(this.drop + this.o.dropIncrease, 1);
      else if (length <= threshold && this.drop > 0) this.drop = Math.max(this.drop - this.o.dropDecrease, 0);
      this.lastFreeze = nowMs;
    }
    return !(this.random() < this.drop);
  }
}
