import { signalScheduleSuite } from '../helpers/signal-schedules.js';

/** The long signal property (`make reliability`): 1000 schedules; 200 of them run in `make test`. */
signalScheduleSuite('reliability: random signal schedules, long run', 1000, 1_800_000);
