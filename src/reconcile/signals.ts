/**
 * The daemon's signal handling, installed once, synchronously, before the daemon's first await and
 * never removed while the process lives.
 *
 * Why it matters: Node applies a signal's default action (death) when a signal arrives with no
 * listener, and a `signal-exit` copy (execa and proper-lockfile each carried one) re-raises a signal
 * when its listener is the only one. A daemon that listened only once its start-up pass had finished,
 * and stopped listening as soon as it began to stop, died of SIGHUP or SIGTERM (exit 129 / 143) in
 * those windows: after state.json already said `ready`, and on a second SIGTERM during shutdown.
 * This gate listens from the first moment, queues what arrives before the daemon can act on it (a
 * stop, or one reload) and hands it over when the daemon attaches.
 */

/** What the daemon does on a signal. */
export interface SignalActions {
  /** SIGHUP: re-read the config and converge. */
  reload(): void;
  /** SIGTERM / SIGINT: stop after the current write. Called again on repeated signals. */
  stop(signal: NodeJS.Signals): void;
}

/** The installed handlers; signals that came before `attach` are replayed to it. */
export interface SignalGate {
  attach(actions: SignalActions): void;
}

/** The part of `process` the gate uses (a test passes an EventEmitter). */
export interface SignalSource {
  on(event: NodeJS.Signals, listener: () => void): unknown;
}

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/** Installs SIGTERM, SIGINT and SIGHUP listeners now; call before anything is awaited. */
export function installSignalGate(source: SignalSource = process): SignalGate {
  let actions: SignalActions | undefined;
  let stopQueued: NodeJS.Signals | undefined;
  let reloadQueued = false;
  for (const signal of STOP_SIGNALS) {
    source.on(signal, () => {
      if (actions) actions.stop(signal);
      else stopQueued ??= signal;
    });
  }
  source.on('SIGHUP', () => {
    if (actions) actions.reload();
    else reloadQueued = true;
  });
  return {
    attach(next) {
      actions = next;
      // A stop makes a queued reload moot.
      if (stopQueued) next.stop(stopQueued);
      else if (reloadQueued) next.reload();
      stopQueued = undefined;
      reloadQueued = false;
    },
  };
}
