import { signalScheduleSuite } from '../helpers/signal-schedules.js';

/**
 * The signal property in `make test`: 200 seeded random SIGTERM / SIGINT / SIGHUP schedules
 * against a real daemon (51 s alone, 76 s inside a full `make test` on 2 cores); test/reliability/signals runs 1000 for
 * `make reliability`. TSFW_SEED replays, TSFW_RELIABILITY_SEQUENCES changes the count.
 */
signalScheduleSuite('reliability: random signal schedules', 200, 300_000);
