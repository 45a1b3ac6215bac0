import { runRole } from '@pharos/observability';

// Not built yet (its issue is still open): the process says so and exits 2.
runRole('alertmanager');
