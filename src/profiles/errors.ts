/** A profile that cannot be expanded against the config: names the profile, rule and key. */
export class ProfileError extends Error {
  readonly kind = 'profile';
  constructor(readonly problems: readonly string[]) {
    super(problems[0] ?? 'invalid profile');
    this.name = 'ProfileError';
  }
}
