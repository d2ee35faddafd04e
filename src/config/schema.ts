import { z } from 'zod';
import { BACKENDS } from './backends.js';
import { parsePrefix } from '../model/net.js';
import { FAMILIES, MODES } from '../model/types.js';
import { isValidCron } from './cron.js';
import { parseLoopbackListen } from './listen.js';

/**
 * The config file's schema. Strict everywhere (an unknown key is an error that names it), with
 * every default embedded so that no file is needed. Built on first use (`z.lazy`): constructing
 * it costs about as much as validating a small file, and a pass whose config is remembered
 * (src/fsx/memo.ts) validates nothing.
 */

export { BACKENDS } from './backends.js';
export type { BackendName, ConcreteBackend } from './backends.js';

function buildSchemas() {
  /**
   * Linux interface names: 1-15 bytes (IFNAMSIZ - 1). We accept the conservative portable set:
   * anything else ('/', ':', whitespace, quotes, ';', '*', '+') is either invalid for the kernel or
   * has a meaning to nft/iptables (wildcards, quoting, statement separators).
   */
  const InterfaceName = z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,15}$/, {
      error: "must be 1-15 characters of letters, digits, '_', '.' or '-'",
    })
    .refine((s) => s !== '.' && s !== '..', { error: 'is not a valid interface name' });

  const Port = z.number({ error: 'must be a port number' }).int({ error: 'must be a whole number' }).min(1, {
    error: 'must be between 1 and 65535',
  }).max(65535, { error: 'must be between 1 and 65535' });

  /** An address or CIDR, optionally pinned to one family. Kept as text; parsed where used. */
  function cidr(family?: 'ip' | 'ip6') {
    return z.string({ error: 'must be an IP address or CIDR string' }).superRefine((text, ctx) => {
      const parsed = parsePrefix(text);
      if (typeof parsed === 'string') {
        ctx.addIssue({ code: 'custom', message: parsed });
      } else if (family && parsed.family !== family) {
        ctx.addIssue({ code: 'custom', message: `must be an ${family === 'ip' ? 'IPv4' : 'IPv6'} CIDR, got ${text}` });
      }
    });
  }

  /** `auto` (discovered on the host) or an explicit list; a wrong string names both choices. */
  function autoOr<T extends z.ZodType>(list: T, what: string) {
    return z.unknown().transform((value, ctx): 'auto' | z.output<T> => {
      if (value === 'auto') return 'auto';
      if (!Array.isArray(value)) {
        ctx.addIssue({ code: 'custom', message: `must be 'auto' or ${what}` });
        return z.NEVER;
      }
      const parsed = list.safeParse(value);
      if (parsed.success) return parsed.data;
      for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
      return z.NEVER;
    });
  }

  const U32_MAX = 0xffff_ffff;
  /** A 32-bit packet mark: a number or a hex string such as "0x40000". */
  const Mark = z
    .union([z.number(), z.string()], { error: 'must be a number or a hex string like 0x40000' })
    .transform((value, ctx) => {
      const n = typeof value === 'number' ? value : /^0x[0-9a-f]{1,8}$/i.test(value) ? Number.parseInt(value, 16) : NaN;
      if (!Number.isInteger(n) || n < 0 || n > U32_MAX) {
        ctx.addIssue({ code: 'custom', message: `must be a 32-bit value (0 to 0xffffffff), got ${String(value)}` });
        return z.NEVER;
      }
      return n;
    });

  // Each check names its own message: a schema-level `error` would also replace theirs.
  const NftPriority = z.number({ error: 'must be a number' }).int({ error: 'must be a whole number' })
    .min(-1000, { error: 'must be between -1000 and 1000' }).max(1000, { error: 'must be between -1000 and 1000' });

  const CgnatConfig = z.strictObject({
    /** drop: Tailscale's anti-spoof drop; return: log-free pass-through; off: no CGNAT rules. */
    mode: z.enum(['drop', 'return', 'off']).default('drop'),
    range: cidr('ip').default('100.64.0.0/10'),
    /** Sources inside the range that arrive on other interfaces legitimately (ISP CGNAT, ChromeOS). */
    exempt: z.array(cidr('ip')).default(['100.115.92.0/23']),
    /** IPv6 counterpart (Tailscale's ULA): dropped off the tunnel like `range`, with the same mode. */
    range6: cidr('ip6').default('fd7a:115c:a1e0::/48'),
    exempt6: z.array(cidr('ip6')).max(64).default([]),
    /** The acknowledgement a range of /0 needs: such a drop rule drops every packet off the tunnel. */
    dropEverything: z.boolean().default(false),
  }).superRefine((cgnat, ctx) => {
    // A /0 "anti-spoof" range drops all traffic not from the tunnel (SSH included): a typo, not a policy.
    if (cgnat.mode === 'drop' && !cgnat.dropEverything && /\/0$/.test(cgnat.range.trim())) {
      ctx.addIssue({ code: 'custom', path: ['range'], message: `${cgnat.range} covers every IPv4 address, so the drop rule would drop all traffic that does not come from the tunnel; set cgnat.dropEverything: true if that is meant` });
    }
    if (cgnat.mode === 'drop' && !cgnat.dropEverything && /\/0$/.test(cgnat.range6.trim())) {
      ctx.addIssue({ code: 'custom', path: ['range6'], message: `${cgnat.range6} covers every IPv6 address, so the drop rule would drop all IPv6 traffic that does not come from the tunnel; set cgnat.dropEverything: true if that is meant` });
    }
  });

  const MarksConfig = z
    .strictObject({
      subnetRoute: Mark.default(0x40000),
      mask: Mark.default(0xff0000),
    })
    .superRefine((marks, ctx) => {
      if (marks.mask === 0) ctx.addIssue({ code: 'custom', path: ['mask'], message: 'must not be 0' });
      if (marks.subnetRoute === 0) ctx.addIssue({ code: 'custom', path: ['subnetRoute'], message: 'must not be 0' });
      if ((marks.subnetRoute & ~marks.mask) >>> 0 !== 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['subnetRoute'],
          message: `0x${marks.subnetRoute.toString(16)} has bits outside mask 0x${marks.mask.toString(16)}`,
        });
      }
    });

  const NftablesConfig = z.strictObject({
    table: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, { error: 'must start with a letter and use letters, digits, _ or - (max 64)' })
      .default('tsfw'),
    priorities: z
      .strictObject({
        input: NftPriority.default(-10),
        forward: NftPriority.default(-10),
        output: NftPriority.default(-10),
        postrouting: NftPriority.default(90),
      })
      .prefault({}),
  });

  const ReconcileConfig = z.strictObject({
    schedule: z
      .string()
      .refine(isValidCron, { error: 'is not a valid cron expression (5 fields, or 6 with seconds)' })
      .default('*/10 * * * * *'),
    /** Follow `nft -j monitor` events to repair within milliseconds. */
    watch: z.boolean().default(true),
    /** Token bucket for repairs undone by another program: burst size and refill per minute. */
    burst: z.number().int().min(1).max(1000).default(10),
    refillPerMinute: z.number().int().min(1).max(6000).default(6),
  });

  /** One port the lockdown profile keeps open on one interface (e.g. SSH on the LAN). */
  const ManagementPort = z.strictObject({
    interface: InterfaceName,
    proto: z.enum(['tcp', 'udp']).default('tcp'),
    port: Port,
  });

  const LockdownConfig = z.strictObject({
    /** Inbound ports that stay reachable besides the tunnel, loopback and WireGuard. */
    managementPorts: z.array(ManagementPort).max(64).default([]),
  });

  const MetricsConfig = z.strictObject({
    /** node_exporter textfile collector file the daemon rewrites after each pass. */
    textfile: z
      .string()
      .refine((p) => p.startsWith('/') && p.endsWith('.prom'), { error: 'must be an absolute path ending in .prom' })
      .optional(),
    /** Opt-in HTTP listener for /metrics; loopback addresses only (it has no authentication). */
    listen: z
      .string()
      .superRefine((text, ctx) => {
        const parsed = parseLoopbackListen(text);
        if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
      })
      .optional(),
  });

  /** `auto`: in mode on, let tsfw's traffic through that manager while it is active; `off`: never touch it. */
  const IntegrationMode = z.enum(['auto', 'off']).default('auto');

  /** One key per firewall manager tsfw cooperates with (src/integrations/, docs/integrations.md). */
  const IntegrationsConfig = z.strictObject({
    firewalld: IntegrationMode,
    ufw: IntegrationMode,
    docker: IntegrationMode,
  });

  const LogConfig = z.strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  });

  const Config = z.strictObject({
    mode: z.enum(MODES).default('on'),
    backend: z.enum(BACKENDS).default('auto'),
    /** Built-in rule profiles to apply, in order (files in rules/). */
    profiles: z.array(z.enum(['tailscale', 'lockdown', 'required-ports'])).min(1)
      .refine((list) => new Set(list).size === list.length, { error: 'lists a profile more than once' })
      .default(['tailscale']),
    interface: InterfaceName.default('tailscale0'),
    families: z.array(z.enum(FAMILIES)).min(1, { error: 'must name at least one of ip, ip6' }).default(['ip', 'ip6']),
    /** WireGuard UDP ports accepted on every interface; `auto`: what tailscaled has bound, else 41641. */
    ports: autoOr(z.array(Port).max(64), 'a list of ports').default('auto'),
    acceptTunnelInput: z.boolean().default(true),
    /** This node's own tailnet addresses, accepted from loopback; `auto`: the tunnel interface's. */
    addresses: autoOr(z.array(cidr()).max(64), 'a list of addresses').default('auto'),
    cgnat: CgnatConfig.prefault({}),
    snat: z.boolean().default(true),
    statefulFiltering: z.boolean().default(false),
    /** Clamp the TCP MSS of SYNs forwarded into and out of the tunnel to the route's MTU. */
    mssClamp: z.boolean().default(false),
    marks: MarksConfig.prefault({}),
    /**
     * Save marks under `marks.mask` to conntrack on output and restore them on prerouting, so replies
     * to tailscaled's marked sockets pass strict rp_filter; `auto`: in mode on, as Tailscale does.
     */
    connmark: z.enum(['auto', 'on', 'off']).default('auto'),
    /** iptables: `first` keeps tsfw's jumps at position 1; `preserve` only ensures they exist. */
    jumpPosition: z.enum(['first', 'preserve']).default('first'),
    nftables: NftablesConfig.prefault({}),
    reconcile: ReconcileConfig.prefault({}),
    log: LogConfig.prefault({}),
    lockdown: LockdownConfig.prefault({}),
    metrics: MetricsConfig.prefault({}),
    integrations: IntegrationsConfig.prefault({}),
    /** Remove tsfw's objects when the daemon stops (default: rules stay, the firewall stays closed). */
    cleanupOnStop: z.boolean().default(false),
  });

  return { InterfaceName, Config };
}

let built: ReturnType<typeof buildSchemas> | undefined;
const schemas = () => (built ??= buildSchemas());

/** See InterfaceName in buildSchemas: a Linux interface name tsfw accepts (profiles check theirs too). */
export const InterfaceName = z.lazy(() => schemas().InterfaceName);

/** The whole config file: what parseConfigText validates. */
export const Config = z.lazy(() => schemas().Config);

/** A fully defaulted, validated config. */
export type Config = z.output<typeof Config>;
/** What a config file may contain. */
export type ConfigInput = z.input<typeof Config>;
