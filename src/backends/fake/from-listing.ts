/**
 * Turns `nft -j list` output (captured from a real kernel) into the `add` commands that rebuild
 * it, so the fake can start from a real captured state. Handles and metainfo are dropped; the
 * kernel (or fake) assigns new handles.
 */
export function commandsFromListing(listing: string | { nftables?: unknown[] }): unknown[] {
  const doc = typeof listing === 'string' ? (JSON.parse(listing) as { nftables?: unknown[] }) : listing;
  const commands: unknown[] = [];
  for (const item of doc.nftables ?? []) {
    const [kind, body] = Object.entries(item as Record<string, Record<string, unknown>>)[0] ?? [];
    if (!kind || !body || kind === 'metainfo') continue;
    const { handle: _handle, ...rest } = body;
    commands.push({ add: { [kind]: rest } });
  }
  return commands;
}
