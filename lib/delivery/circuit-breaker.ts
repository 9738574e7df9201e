/** A target's circuit: closed (deliveries go), open (they wait), half-open (one probe delivery goes). */
export type CircuitState = 'closed' | 'half-open' | 'open';

/** The number the metric `eventgateway_target_circuit_state` shows for a state. */
export const CIRCUIT_STATE_VALUE: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };

export interface CircuitBreakerOptions {
  /** Consecutive retryable failures of a target that open its circuit (default 5). */
  failureThreshold?: number;
  /** How long a circuit stays open before one probe is let through (default 1 s); doubles after each failed probe. */
  openMs?: number;
  /** The longest a circuit stays open between probes (default 10 s). */
  maxOpenMs?: number;
}

/** What a breaker says about a delivery to a target: attempt it, attempt it as the one probe, or let it wait. */
export type Admission = 'attempt' | 'probe' | 'wait';

interface Circuit {
  state: CircuitState;
  failures: number;
  openMs: number;
  openUntil: number;
  probing: boolean;
  timer?: NodeJS.Timeout;
}

/** Told of every change of a circuit's state. */
export type CircuitListener = (target: string, from: CircuitState, to: CircuitState) => void;
/** Called when an open circuit's wait is over: the queue should bring one delivery of the target for the probe. */
export type ProbeDue = (target: string) => void;

/**
 * One circuit breaker per target. Retry attempts against a dead target would crowd out the live ones:
 * after `failureThreshold` consecutive retryable failures the target's circuit opens and its deliveries
 * wait (without spending attempts); once `openMs` passed one probe delivery is let through (half-open);
 * its success closes the circuit — the queue then releases the waiting deliveries at once — and its
 * failure opens it again for twice as long. A target unknown to the breaker is closed: the hot path
 * pays one map lookup per delivery.
 */
export class CircuitBreakers {
  private readonly circuits = new Map<string, Circuit>();
  private readonly threshold: number;
  private readonly openMs: number;
  private readonly maxOpenMs: number;
  private stopped = false;

  constructor(
    options: CircuitBreakerOptions,
    private readonly onChange: CircuitListener,
    private readonly onProbeDue: ProbeDue,
  ) {
    this.threshold = options.failureThreshold ?? 5;
    this.openMs = options.openMs ?? 1000;
    this.maxOpenMs = options.maxOpenMs ?? 10_000;
  }

  /** Whether a delivery to `target` may be attempted now. */
  admit(target: string): Admission {
    const circuit = this.circuits.get(target);
    if (!circuit || circuit.state === 'closed') return 'attempt';
    if (circuit.state === 'open' && Date.now() >= circuit.openUntil) this.change(target, circuit, 'half-open');
    if (circuit.state === 'open' || circuit.probing) return 'wait';
    circuit.probing = true;
    return 'probe';
  }

  /** Whether deliveries to `target` would wait now (no side effect: for deliveries just accepted). */
  isOpen(target: string): boolean {
    const state = this.circuits.get(target)?.state;
    return state !== undefined && state !== 'closed';
  }

  /**
   * How long a delivery to `target` that must wait now should stay away (SQS parks it for that long):
   * what is left of the open interval, or — while a probe is out — the current open interval, by when
   * the probe has usually answered.
   */
  waitMs(target: string): number {
    const circuit = this.circuits.get(target);
    if (!circuit || circuit.state === 'closed') return 0;
    if (circuit.state === 'open') return Math.max(0, circuit.openUntil - Date.now());
    return circuit.openMs;
  }

  /** The target answered (a success, or a refusal no retry fixes: it is up). Returns true when this closed its circuit. */
  succeeded(target: string): boolean {
    const circuit = this.circuits.get(target);
    if (!circuit) return false;
    if (circuit.state === 'closed') {
      // Forget healthy targets: the map holds only targets that failed lately.
      if (circuit.failures > 0) this.circuits.delete(target);
      return false;
    }
    clearTimeout(circuit.timer);
    this.circuits.delete(target);
    this.onChange(target, circuit.state, 'closed');
    return true;
  }

  /** A retryable failure of the target (unreachable, timeout, 5xx, 429). */
  failed(target: string, wasProbe: boolean): void {
    let circuit = this.circuits.get(target);
    if (!circuit) {
      circuit = { state: 'closed', failures: 0, openMs: this.openMs, openUntil: 0, probing: false };
      this.circuits.set(target, circuit);
    }
    if (circuit.state === 'closed') {
      circuit.failures++;
      if (circuit.failures >= this.threshold) this.open(target, circuit, this.openMs);
      return;
    }
    // Deliveries already in flight when the circuit opened may fail too; only the probe's failure reopens it.
    if (wasProbe) this.open(target, circuit, Math.min(this.maxOpenMs, circuit.openMs * 2));
  }

  /** The probe could not be made (not the target's fault): let another delivery probe. */
  probeAbandoned(target: string): void {
    const circuit = this.circuits.get(target);
    if (circuit?.probing) this.open(target, circuit, circuit.openMs);
  }

  /** Every circuit that is not closed, for metrics and tests. */
  states(): Map<string, CircuitState> {
    return new Map([...this.circuits].filter(([, c]) => c.state !== 'closed').map(([target, c]) => [target, c.state]));
  }

  /** Stops the timers (the queue is draining). */
  stop(): void {
    this.stopped = true;
    for (const circuit of this.circuits.values()) clearTimeout(circuit.timer);
  }

  private open(target: string, circuit: Circuit, openMs: number): void {
    circuit.openMs = openMs;
    circuit.openUntil = Date.now() + openMs;
    circuit.probing = false;
    circuit.failures = 0;
    this.change(target, circuit, 'open');
    clearTimeout(circuit.timer);
    if (this.stopped) return;
    circuit.timer = setTimeout(() => {
      circuit.timer = undefined;
      if (circuit.state === 'open') this.change(target, circuit, 'half-open');
      this.onProbeDue(target);
    }, openMs);
    circuit.timer.unref();
  }

  private change(target: string, circuit: Circuit, to: CircuitState): void {
    const from = circuit.state;
    circuit.state = to;
    if (from !== to) this.onChange(target, from, to);
  }
}
