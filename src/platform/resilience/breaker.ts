import { CircuitState } from 'cockatiel';

/** A circuit breaker's state as operators read it (metrics, logs, the overview). */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** cockatiel's states by those names; an isolated breaker fails fast, as an open one does. */
export const BREAKER_STATES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'open',
};
