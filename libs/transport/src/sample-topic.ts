import type { SampleBatch } from '@pharos/model';
import { decodeSampleBatch, encodeSampleBatch } from '@pharos/proto';
import { KafkaLog, type KafkaCompression, type KafkaLogOptions } from './kafka-log.js';
import type { KafkaSecurity } from './kafka-security.js';

export interface SampleTopic {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly partitions: number;
  readonly compression: KafkaCompression;
  readonly security?: KafkaSecurity;
}

interface RoleLogger {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/**
 * The sample topic as a role opens it: batches in the protobuf the services exchange, keyed by
 * series hash, kafkajs' messages in the role's log, and waiting for the broker when it is away.
 */
export function openSampleTopic(
  t: SampleTopic,
  clientId: string,
  logger: RoleLogger,
): Promise<KafkaLog<SampleBatch>> {
  const opts: KafkaLogOptions<SampleBatch> = {
    brokers: t.brokers,
    security: t.security,
    topic: t.topic,
    partitions: t.partitions,
    clientId,
    codec: { encode: encodeSampleBatch, decode: decodeSampleBatch },
    key: (b) => b.hashes[0] ?? null,
    compression: t.compression,
    log: (level, message, extra) => logger[level](extra, `kafka: ${message}`),
  };
  return KafkaLog.openWhenReachable(opts, (err, waitMs) =>
    logger.warn({ err: err.message, retryInMs: waitMs }, 'Kafka unreachable; trying again'),
  );
}
