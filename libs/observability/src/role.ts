/**
 * Entry of a role's own process. Until the distributed transports exist, a role cannot run alone:
 * say so plainly and exit, rather than start something that silently does nothing.
 */
export function runRole(role: string): void {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(
      `Usage: pharos-${role}\n\nThe ${role} role of Pharos. Running it as a separate process is part of the distributed mode, which is not available yet.\nRun the all-in-one server instead: npm start\n`,
    );
    return;
  }
  process.stderr.write(
    `pharos-${role}: distributed mode is not available yet; the ${role} role runs inside the all-in-one server (npm start)\n`,
  );
  process.exitCode = 2;
}
