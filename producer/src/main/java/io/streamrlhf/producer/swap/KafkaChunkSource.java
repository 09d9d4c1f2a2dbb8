package io.streamrlhf.producer.swap;

import io.streamrlhf.schemas.chunks.CheckpointChunkReader;
import io.streamrlhf.schemas.chunks.ChunkIndex;
import io.streamrlhf.schemas.chunks.ChunkReadException;
import java.time.Duration;
import java.util.Map;

/**
 * Reads a checkpoint's chunks from the {@code checkpoints} topic through a {@link CheckpointChunkReader}: straight
 * from the partition and offsets a version record's index names, or, for records published without one, by
 * scanning the topic from the beginning ({@code read_committed}, no consumer group). Publishers tombstone versions
 * beyond {@code topic.checkpoints.kept}, so the topic stays small either way.
 */
public final class KafkaChunkSource implements CheckpointFetcher.ChunkSource {

    private final CheckpointChunkReader reader;

    /**
     * @param clientProperties Kafka client settings (bootstrap servers, security); consumer keys are taken
     * @param timeout          how long one read may take, including waiting for the chunk count to appear
     */
    public KafkaChunkSource(Map<String, Object> clientProperties, Duration timeout) {
        this.reader = new CheckpointChunkReader(clientProperties, timeout);
    }

    @Override
    public byte[] read(String topic, String name, long version) {
        return read(topic, name, version, null);
    }

    @Override
    public byte[] read(String topic, String name, long version, ChunkIndex index) {
        try {
            return reader.read(topic, name, version, index);
        } catch (ChunkReadException e) {
            throw new CheckpointRefusedException(e.getMessage(), e);
        }
    }
}
