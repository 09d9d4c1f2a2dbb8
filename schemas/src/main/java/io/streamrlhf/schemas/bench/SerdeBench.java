package io.streamrlhf.schemas.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.schemas.avro.FinishReason;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.SamplingParams;
import io.streamrlhf.schemas.registry.InMemorySchemaRegistryClient;
import io.streamrlhf.schemas.serde.SpecificAvroSerde;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The serde benchmark, alone (no broker, in-memory registry, so ids come from the cache as they do in steady state):
 * serialize then deserialize a {@link Generation} with a given number of response tokens, on one thread, and report
 * records per second. {@code rlhf bench serde} prints its {@link Result}.
 */
public final class SerdeBench {

    /** Records in the timed run unless told otherwise. */
    public static final long DEFAULT_RECORDS = 200_000;
    /** Response tokens of the generation unless told otherwise. */
    public static final int DEFAULT_RESPONSE_TOKENS = 40;

    /**
     * What to measure.
     *
     * @param responseTokens response tokens of the generation
     * @param warmup         untimed round trips first, so the JIT has compiled the serde
     * @param records        round trips in the timed run
     */
    public record Parameters(int responseTokens, long warmup, long records) {

        /** @throws IllegalArgumentException naming the parameter out of range */
        public Parameters {
            if (responseTokens < 0) {
                throw new IllegalArgumentException("responseTokens must be >= 0, got " + responseTokens);
            }
            if (warmup < 0) {
                throw new IllegalArgumentException("warmup must be >= 0, got " + warmup);
            }
            if (records < 1) {
                throw new IllegalArgumentException("records must be >= 1, got " + records);
            }
        }

        /** {@code records} timed round trips after a quarter as many untimed ones. */
        public static Parameters of(long records, int responseTokens) {
            return new Parameters(responseTokens, records / 4, records);
        }
    }

    /**
     * Figures of one run.
     *
     * @param responseTokens response tokens of the generation
     * @param records        records serialized and deserialized in the timed run
     * @param seconds        wall time of the timed run
     * @param bytesPerRecord size of one serialized record, wire header included
     */
    public record Result(int responseTokens, long records, double seconds, int bytesPerRecord) {
        public double recordsPerSecond() {
            return records / seconds;
        }

        /** One line for people: {@code Generation with 40 response tokens: 200,000 records in ...}. */
        public String summary() {
            return "Generation with " + responseTokens + " response tokens: " + this;
        }

        /** The JSON line. */
        public String toJson() {
            ObjectNode root = new ObjectMapper().createObjectNode();
            root.put("records_per_s", Math.round(recordsPerSecond() * 10) / 10.0);
            root.put("bytes_per_record", bytesPerRecord);
            root.put("records", records);
            root.put("seconds", Math.round(seconds * 1000) / 1000.0);
            root.put("response_tokens", responseTokens);
            return root.toString();
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT,
                    "%,d records in %.2f s: %,.0f records/s (serialize+deserialize), %d bytes/record",
                    records, seconds, recordsPerSecond(), bytesPerRecord);
        }
    }

    private SerdeBench() {
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
     * Serializes and deserializes {@code records} copies of the generation after {@code warmup} untimed round trips,
     * and checks the last one read back equals the original.
     *
     * @throws IllegalStateException when the round trip changed the record
     */
    public static Result run(Parameters parameters) {
        InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
        SpecificAvroSerde<Generation> serde = new SpecificAvroSerde<>(Generation.class, registry, Map.of(), false);
        Generation generation = sampleGeneration(parameters.responseTokens());
        String topic = "bench.generations";
        Generation back = null;
        for (long i = 0; i < parameters.warmup(); i++) {
            back = serde.deserializer().deserialize(topic, serde.serializer().serialize(topic, generation));
        }
        int size = 0;
        long start = System.nanoTime();
        for (long i = 0; i < parameters.records(); i++) {
            byte[] bytes = serde.serializer().serialize(topic, generation);
            size = bytes.length;
            back = serde.deserializer().deserialize(topic, bytes);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (!generation.equals(back)) {
            throw new IllegalStateException("round trip changed the record");
        }
        return new Result(parameters.responseTokens(), parameters.records(), seconds, size);
    }
}
