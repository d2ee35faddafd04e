/**
 * Everything tsfw owns, named in one place. Only the predicates here decide what tsfw may change
 * or delete; every other table, chain, rule, set and policy belongs to the admin.
 */

/** Regular chains created from rule profiles are named `ts-*` (ts-input, ts-forward, ...). */
export const OWNED_CHAIN_PREFIX = 'ts-';

/** nftables: the base chains mode `on` registers at hooks inside tsfw's table. */
export const DIVERT_CHAIN_PREFIX = 'tsfw-';

/** Every rule tsfw writes carries a comment starting with this tag, followed by the rule id. */
export const RULE_TAG = 'tsfw:';

/** iptables: comment on the jump rules tsfw puts into built-in chains (INPUT, FORWARD, ...). */
export const JUMP_TAG = 'tsfw:jump';

/** The nftables base chain for `<kind>-<hook>` that diverts into a ts-* chain (filter-input → tsfw-filter-input). */
export function divertChainName(kindAndHook: string): string {
  return `${DIVERT_CHAIN_PREFIX}${kindAndHook}`;
}

/** A chain name tsfw created and may flush or delete (inside its own table / in its tables). */
export function isOwnedChain(name: string): boolean {
  return name.startsWith(OWNED_CHAIN_PREFIX) || name.startsWith(DIVERT_CHAIN_PREFIX);
}

/** The comment written on a rule with this id. */
export function ruleComment(id: string): string {
  return `${RULE_TAG}${id}`;
}

/** The rule id inside a comment tsfw wrote, or undefined for anyone else's comment. */
export function ruleIdFromComment(comment: string | undefined): string | undefined {
  return comment?.startsWith(RULE_TAG) && comment !== JUMP_TAG ? comment.slice(RULE_TAG.length) : undefined;
}

/** Whether a rule in a shared (built-in) chain is one of tsfw's own jumps. */
export function isOwnedJumpComment(comment: string | undefined): boolean {
  return comment === JUMP_TAG;
}
