import { Option } from 'commander';
import { BACKENDS } from '../config/backends.js';
import { MODES } from '../model/types.js';

/** Shared flag definitions, so every command spells and validates them the same way. */
export function configOption(): Option {
  return new Option('-c, --config <file>', 'config file (default: $TSFW_CONFIG, else /etc/tsfw/config.yaml, else built-in defaults)');
}

export function modeOption(): Option {
  return new Option('--mode <mode>', 'netfilter mode').choices(MODES);
}

export function backendOption(): Option {
  return new Option('--backend <backend>', 'firewall backend').choices(BACKENDS);
}

export function jsonOption(): Option {
  return new Option('--json', 'print one JSON object instead of text');
}
