import { execFileSync } from 'node:child_process';

function gitRevision(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return 'unknown';
  }
}

export const BUILD_INFO = {
  version: '0.1.0',
  revision: process.env.PHAROS_REVISION ?? gitRevision(),
  branch: process.env.PHAROS_BRANCH ?? 'main',
  buildUser: process.env.PHAROS_BUILD_USER ?? 'pharos',
  buildDate: process.env.PHAROS_BUILD_DATE ?? '',
  goVersion: process.version,
} as const;
