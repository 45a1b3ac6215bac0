import { runRole } from '@pharos/observability';

// The alertmanager role runs inside the all-in-one process today; as a process of its own it needs the
// Kafka, gRPC and membership transports of the distributed mode, which are not built yet.
runRole('alertmanager');
