/**
 * Entry of a role that does not exist yet (ruler, alertmanager): say so plainly and exit, rather
 * than start something that silently does nothing.
 */
export function runRole(role: string): void {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(
      `Usage: pharos-${role}\n\nThe ${role} role of Pharos is not built yet, neither as a process of its own nor inside the all-in-one server.\n`,
    );
    return;
  }
  process.stderr.write(`pharos-${role}: the ${role} role is not built yet\n`);
  process.exitCode = 2;
}
