/** Passive health as configuration documents write it (`passive_health`). */
export interface PassiveHealthConfigInput {
  /** Default true; false turns passive health off. */
  readonly enabled?: boolean | undefined;
  readonly failures?: number | undefined;
  readonly on_5xx?: boolean | undefined;
  readonly eject_ms?: number | undefined;
}

/** Passive health: nodes that fail live traffic are taken out for a while. */
export interface PassiveHealthOptions {
  /** Consecutive failed sessions (connect failure, reset, timeout) before the node is ejected. */
  readonly failures: number;
  /** Count HTTP 5xx responses as failures too. */
  readonly on5xx: boolean;
  /** How long an ejected node gets no new sessions. */
  readonly ejectMs: number;
}

/** Defaults from the issue-4 design: enabled, 5 failures, 5xx not counted, 30 s out. */
export const passiveHealthDefaults: PassiveHealthOptions = {
  failures: 5,
  on5xx: false,
  ejectMs: 30_000,
};

/** Applies defaults to a `passive_health` block (absent = enabled with defaults); false = off. */
export function passiveHealthFromConfig(
  config: PassiveHealthConfigInput | undefined,
): PassiveHealthOptions | false {
  if (config?.enabled === false) return false;
  return {
    failures: config?.failures ?? passiveHealthDefaults.failures,
    on5xx: config?.on_5xx ?? passiveHealthDefaults.on5xx,
    ejectMs: config?.eject_ms ?? passiveHealthDefaults.ejectMs,
  };
}

/** True when a session outcome of this kind counts against the node. */
export function countsAsFailure(
  kind: 'connect' | 'reset' | 'timeout' | 'status_5xx' | undefined,
  options: PassiveHealthOptions,
): boolean {
  if (kind === 'status_5xx') return options.on5xx;
  return kind !== undefined;
}
