/** Backends tsfw can drive; `auto` picks one from evidence on the host. Kept apart from the schema so the CLI names them without building it. */
export const BACKENDS = ['auto', 'nftables', 'iptables-nft', 'iptables-legacy'] as const;
export type BackendName = (typeof BACKENDS)[number];
export type ConcreteBackend = Exclude<BackendName, 'auto'>;
