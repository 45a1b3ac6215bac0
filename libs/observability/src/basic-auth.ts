import bcrypt from 'bcryptjs';

/** A bcrypt hash of "fakepassword": unknown users cost as much as known ones, so timing tells nothing. */
const FAKE_HASH = '$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi';
const CACHE_SIZE = 100;

/**
 * Checks user and password against bcrypt hashes as exporter-toolkit does. Results are cached by
 * user, hash and password, because a bcrypt comparison costs tens of milliseconds of CPU and
 * clients send the same credentials with every request.
 */
export class BcryptUsers {
  private readonly cache = new Map<string, boolean>();

  constructor(private users: Readonly<Record<string, string>>) {}

  get enabled(): boolean {
    return Object.keys(this.users).length > 0;
  }

  replace(users: Readonly<Record<string, string>>): void {
    this.users = users;
    this.cache.clear();
  }

  async verify(user: string, pass: string): Promise<boolean> {
    const known = Object.hasOwn(this.users, user);
    const hash = known ? this.users[user] : FAKE_HASH;
    const key = `${user}\u0000${hash}\u0000${pass}`;
    let ok = this.cache.get(key);
    if (ok === undefined) {
      const match = await bcrypt.compare(pass, hash);
      ok = known && match;
      if (this.cache.size >= CACHE_SIZE) this.cache.clear();
      this.cache.set(key, ok);
    }
    return ok;
  }
}

/** The user and password of an `Authorization: Basic` header, as Go's Request.BasicAuth reads it. */
export function basicAuth(header: string | undefined): { user: string; pass: string } | undefined {
  if (!header || header.length < 6 || header.slice(0, 6).toLowerCase() !== 'basic ') return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? undefined : { user: decoded.slice(0, i), pass: decoded.slice(i + 1) };
}
