package io.streamrlhf.schemas.serde;

import io.streamrlhf.schemas.avro.FinishReason;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.SamplingParams;
import io.streamrlhf.schemas.registry.InMemorySchemaRegistryClient;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A micro-benchmark of the serde alone (no broker, in-memory registry, so ids come from the cache as they do
 * in steady state): serialize then deserialize a {@link Generation} with a given number of response tokens, on
 * one thread, and report records per second. {@code main} prints the figure; {@code rlhf bench} can call
 * {@link #measure}.
 */
public final class SerdeThroughput {

    /**
     * @param records        records serialized and deserialized in the timed run
     * @param seconds        wall time of the timed run
     * @param bytesPerRecord size of one serialized record, wire header included
     */
    public record Result(long records, double seconds, int bytesPerRecord) {
        public double recordsPerSecond() {
            return records / seconds;
        }

        @Override
        public String toString() {
            return String.format("%,d records in %.2f s: %,.0f records/s (serialize+deserialize), %d bytes/record",
                    records, seconds, recordsPerSecond(), bytesPerRecord);
        }
    }

    private SerdeThroughput() {
    }

    /** A generation with {@code responseTokens} tokens and realistic texts and log-probs. */
    public static Generation sampleGeneration(int responseTokens) {
        List<Integer> promptTokens = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            promptTokens.add(7 + 13 * i);
        }
        List<Integer> tokens = new ArrayList<>(responseTokens);
        List<Float> logprobs = new ArrayList<>(responseTokens);
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < responseTokens; i++) {
            tokens.add((i * 37 + 11) % 400);
            logprobs.add(-0.1f - 0.23f * (i % 11));
            text.append(i == 0 ? "" : " ").append("token").append(i % 29);
        }
        Instant now = Instant.ofEpochMilli(1_750_000_000_000L);
        return Generation.newBuilder()
                .setGenerationId("g-bench-0001-3").setPromptId("p-bench-0001")
                .setGroupSize(4).setGroupIndex(3)
                .setPromptTokens(promptTokens).setResponseTokens(tokens)
                .setPromptText("<|user|> tell me something nice about the sea <|assistant|>")
                .setResponseText(text.toString())
                .setBehaviourLogprobs(logprobs)
                .setPolicyName("policy").setPolicyVersion(12L).setWorkerId("worker-0")
                .setFinishReason(FinishReason.EOS)
                .setSampling(new SamplingParams(1.0f, 1.0f, 0, 64, null))
                .setCategory("sea")
                .setStartedAt(now).setCreatedAt(now.plusMillis(40))
                .build();
    }

    /**
     * Serializes and deserializes {@code records} copies of a {@code responseTokens}-token generation after
     * {@code warmup} untimed rounds (JIT), and checks the last one read back equals the original.
     */
    public static Result measure(int responseTokens, long warmup, long records) {
        InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
        SpecificAvroSerde<Generation> serde = new SpecificAvroSerde<>(Generation.class, registry, Map.of(), false);
        Generation generation = sampleGeneration(responseTokens);
        String topic = "bench.generations";
        Generation back = null;
        for (long i = 0; i < warmup; i++) {
            back = serde.deserializer().deserialize(topic, serde.serializer().serialize(topic, generation));
        }
        int size = 0;
        long start = System.nanoTime();
        for (long i = 0; i < records; i++) {
            byte[] bytes = serde.serializer().serialize(topic, generation);
            size = bytes.length;
            back = serde.deserializer().deserialize(topic, bytes);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (!generation.equals(back)) {
            throw new IllegalStateException("round trip changed the record");
        }
        return new Result(records, seconds, size);
    }

    /** Usage: {@code SerdeThroughput [records [responseTokens]]}; defaults 200000 records of 40 tokens. */
    public static void main(String[] args) {
        long records = args.length > 0 ? Long.parseLong(args[0]) : 200_000;
        int tokens = args.length > 1 ? Integer.parseInt(args[1]) : 40;
        System.out.println("Generation with " + tokens + " response tokens: " + measure(tokens, records / 4, records));
    }
}
