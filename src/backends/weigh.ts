import type { ManagerLandscape } from '../integrations/landscape.js';
import type { Detection } from './iptables/detect.js';

/**
 * `backend: auto` beside other firewall managers: an enabled manager says where tsfw's rules
 * belong even before that manager has loaded anything (boot order). Kubernetes' hint chains still
 * decide first; then ufw enabled → the iptables flavour ufw writes (tsfw's jump then sits in the
 * same INPUT/FORWARD chains as ufw's, where its accept is final); firewalld running → nftables
 * (firewalld's own backend); both → neither weighs, the rules decide, with a warning; neither →
 * the rule counts. Pure.
 */
export function weighManagers(detection: Detection, landscape: ManagerLandscape): Detection {
  const notes = [landscape.ufw?.evidence, landscape.firewalld?.evidence].filter((e): e is string => e !== undefined);
  const evidence = [...notes, ...detection.evidence];
  const ufw = landscape.ufw?.enabled ? landscape.ufw : undefined;
  const firewalld = landscape.firewalld?.running === true;
  if (detection.reason.startsWith('auto: Kubernetes')) return { ...detection, evidence };
  if (ufw && firewalld) {
    return { ...detection, evidence, warnings: [...detection.warnings, 'ufw is enabled and firewalld runs: neither decides the backend, the rules present do'] };
  }
  if (ufw) return { ...detection, backend: ufw.flavour, reason: `auto: ufw is enabled and keeps its rules in ${ufw.flavour}`, evidence };
  if (firewalld) return { ...detection, backend: 'nftables', reason: 'auto: firewalld runs (nftables)', evidence };
  return { ...detection, evidence };
}
