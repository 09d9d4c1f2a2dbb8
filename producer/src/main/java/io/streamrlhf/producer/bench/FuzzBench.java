package io.streamrlhf.producer.bench;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.producer.ClientSettings;
import io.streamrlhf.producer.feedback.FeedbackServer;
import io.streamrlhf.producer.feedback.KafkaFeedbackSink;
import io.streamrlhf.producer.feedback.RecentGenerations;
import io.streamrlhf.producer.fuzz.FeedbackApiFuzzer;
import io.streamrlhf.producer.fuzz.FeedbackRequests;
import io.streamrlhf.schemas.fuzz.RecordDamage;
import io.streamrlhf.schemas.serde.AvroSerdeException;
import io.streamrlhf.schemas.topics.CatalogTopics;
import io.streamrlhf.schemas.topics.DlqHeaders;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * {@code rlhf bench fuzz}: the fuzz tests' generators at length, through a running cluster. Half the inputs are
 * damaged records ({@link RecordDamage}) produced to every input topic that has a dead-letter topic, read back and
 * decoded as the consumers decode them: a decode error sends the record to the topic's DLQ with headers, anything
 * else escaping is a crash, a decode taking longer than the timeout a hang. The other half are requests
 * ({@link FeedbackRequests}) to a feedback server writing to the {@code feedback} topic, 32 connections at once,
 * plus a few slow bodies; the labels on the topic must be exactly the ones the server accepted. Counts are read back
 * from the topics, not only from the senders' own tallies.
 */
public final class FuzzBench {

    /** Longest a single decode may take before it counts as a hang. */
    public static final Duration DECODE_TIMEOUT = Duration.ofSeconds(5);

    /**
     * What a run found.
     *
     * @param inputs       inputs sent in all (records plus requests)
     * @param topicInputs  damaged records produced to the input topics
     * @param apiInputs    requests sent to the feedback API
     * @param crashes      decodes that failed with anything but the decode error, and API answers that were 5xx,
     *                     4xx without a reason, or failed connections
     * @param hangs        decodes over {@link #DECODE_TIMEOUT} and requests without an answer in time
     * @param dlq          records on the dead-letter topics afterwards
     * @param decoded      damaged records that still decoded as their topic's contract
     * @param rejected4xx  requests refused with a 4xx and a reason
     * @param acceptedApi  requests answered 2xx
     * @param stored       labels on the {@code feedback} topic afterwards
     * @param lostOrExtra  accepted labels missing from the topic plus labels on it that were never accepted
     * @param seconds      wall time
     * @param seed         the seed
     * @param failures     the first crashes and hangs, described
     */
    public record Result(long inputs, long topicInputs, long apiInputs, long crashes, long hangs, long dlq,
                         long decoded, long rejected4xx, long acceptedApi, long stored, long lostOrExtra,
                         double seconds, long seed, List<String> failures) {

        /** Whether nothing crashed or hung, every undecodable record is on a DLQ and the stored labels match. */
        public boolean ok() {
            return crashes == 0 && hangs == 0 && lostOrExtra == 0 && dlq + decoded == topicInputs;
        }

        /**
         * The JSON line: {@code {"inputs":..., "crashes":0, "hangs":0, "dlq":..., "rejected_4xx":..., "accepted":...,
         * ...}}; {@code accepted} counts records that decoded and requests answered 2xx.
         */
        public String toJson() {
            return String.format(Locale.ROOT, "{\"inputs\":%d, \"crashes\":%d, \"hangs\":%d, \"dlq\":%d, "
                            + "\"rejected_4xx\":%d, \"accepted\":%d, \"topic_inputs\":%d, \"decoded\":%d, "
                            + "\"api_inputs\":%d, \"api_accepted\":%d, \"feedback_stored\":%d, "
                            + "\"feedback_lost_or_extra\":%d, \"seconds\":%.1f, \"seed\":%d, \"ok\":%s}",
                    inputs, crashes, hangs, dlq, rejected4xx, decoded + acceptedApi, topicInputs, decoded, apiInputs,
                    acceptedApi, stored, lostOrExtra, seconds, seed, ok());
        }
    }

    private FuzzBench() {
    }

    /**
     * Runs {@code inputs} inputs against {@code catalog}'s cluster.
     *
     * @param progress where progress lines go
     */
    public static Result run(CatalogTopics catalog, int inputs, long seed, Consumer<String> progress)
            throws InterruptedException {
        if (inputs < 2) {
            throw new IllegalArgumentException("--inputs must be at least 2, got " + inputs);
        }
        long t0 = System.nanoTime();
        Random random = new Random(seed);
        int topicInputs = (inputs + 1) / 2;
        int apiInputs = inputs - topicInputs;
        List<String> failures = new ArrayList<>();
        progress.accept(String.format(Locale.ROOT, "%,d damaged records through the input topics", topicInputs));
        TopicRun topics = throughTopics(catalog, topicInputs, random, failures, progress);
        progress.accept(String.format(Locale.ROOT, "%,d requests to the feedback API", apiInputs));
        ApiRun api = throughApi(catalog, apiInputs, random, failures);
        return new Result(inputs, topicInputs, apiInputs, topics.crashes + api.tally.crashes(),
                topics.hangs + api.tally.hangs(), topics.dlq, topics.decoded, api.tally.rejected4xx(),
                api.tally.accepted(), api.stored, api.lostOrExtra, (System.nanoTime() - t0) / 1e9, seed,
                List.copyOf(failures.subList(0, Math.min(20, failures.size()))));
    }

    private record TopicRun(long decoded, long dlq, long crashes, long hangs) {
    }

    private static TopicRun throughTopics(CatalogTopics catalog, int n, Random random, List<String> failures,
                                          Consumer<String> progress) throws InterruptedException {
        Topics topics = catalog.topics();
        RecordDamage damage = RecordDamage.of(topics);
        Set<String> withDlq = topics.dlqSources().stream().map(TopicSpec::name).collect(Collectors.toSet());
        Map<String, TopicSpec<String, ? extends SpecificRecord>> byName = new HashMap<>();
        for (TopicSpec<String, ? extends SpecificRecord> t : damage.topics()) {
            if (withDlq.contains(t.name())) {
                byName.put(t.name(), t);
            }
        }
        Map<String, Object> producerProps = ClientSettings.producer(catalog.settings());
        producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            for (int i = 0; i < n; i++) {
                RecordDamage.Damaged d = damage.next(random);
                while (!byName.containsKey(damage.topics().get(d.topic()).name())) {
                    d = damage.next(random);
                }
                producer.send(new ProducerRecord<>(damage.topics().get(d.topic()).name(),
                        ("fuzz-" + i).getBytes(java.nio.charset.StandardCharsets.UTF_8), d.bytes()));
            }
            producer.flush();
        }

        Map<String, Object> consumerProps = ClientSettings.consumer(catalog.settings());
        consumerProps.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        consumerProps.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        consumerProps.remove(ConsumerConfig.GROUP_ID_CONFIG);
        long decoded = 0;
        long deadLettered = 0;
        long crashes = 0;
        long hangs = 0;
        ExecutorService decoder = decoderThread();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProps, new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
             KafkaProducer<byte[], byte[]> dlq = new KafkaProducer<>(producerProps, new ByteArraySerializer(),
                     new ByteArraySerializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (String name : byName.keySet()) {
                consumer.partitionsFor(name).forEach(p -> partitions.add(new TopicPartition(name, p.partition())));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long seen = 0;
            long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos() + n * 10_000_000L;
            while (seen < n && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    seen++;
                    TopicSpec<String, ? extends SpecificRecord> spec = byName.get(record.topic());
                    Future<?> decode = decoder.submit(() -> spec.valueDeserializer().deserialize(record.topic(),
                            record.value()));
                    try {
                        decode.get(DECODE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                        decoded++;
                    } catch (ExecutionException e) {
                        if (e.getCause() instanceof AvroSerdeException bad) {
                            dlq.send(DlqHeaders.deadLetter(topics.dlq(spec).name(), record, bad, "bench-fuzz"));
                            deadLettered++;
                        } else {
                            crashes++;
                            failures.add("decoding " + record.topic() + "@" + record.offset() + " threw "
                                    + e.getCause());
                        }
                    } catch (TimeoutException e) {
                        hangs++;
                        failures.add("decoding " + record.topic() + "@" + record.offset() + " took over "
                                + DECODE_TIMEOUT);
                        decode.cancel(true);
                        decoder.shutdownNow();
                        decoder = decoderThread();
                    }
                    if (seen % 10_000 == 0) {
                        progress.accept(String.format(Locale.ROOT, "  %,d of %,d records decoded or dead-lettered",
                                seen, n));
                    }
                }
            }
            if (seen < n) {
                failures.add("only " + seen + " of " + n + " records came back from the input topics");
                hangs += n - seen;
            }
            dlq.flush();
            long onDlq = 0;
            List<TopicPartition> dlqPartitions = new ArrayList<>();
            for (TopicSpec<String, ? extends SpecificRecord> spec : byName.values()) {
                String name = topics.dlq(spec).name();
                consumer.partitionsFor(name).forEach(p -> dlqPartitions.add(new TopicPartition(name, p.partition())));
            }
            Map<TopicPartition, Long> begin = consumer.beginningOffsets(dlqPartitions);
            for (Map.Entry<TopicPartition, Long> end : consumer.endOffsets(dlqPartitions).entrySet()) {
                onDlq += end.getValue() - begin.get(end.getKey());
            }
            if (onDlq != deadLettered) {
                failures.add(deadLettered + " records dead-lettered but " + onDlq + " are on the DLQs");
            }
            return new TopicRun(decoded, onDlq, crashes, hangs);
        } finally {
            decoder.shutdownNow();
        }
    }

    private static ExecutorService decoderThread() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fuzz-decoder");
            t.setDaemon(true);
            return t;
        });
    }

    private record ApiRun(FeedbackApiFuzzer.Tally tally, long stored, long lostOrExtra) {
    }

    private static ApiRun throughApi(CatalogTopics catalog, int n, Random random, List<String> failures)
            throws InterruptedException {
        FeedbackServer.Options options = FeedbackServer.Options.defaults().bind("127.0.0.1", 0)
                .withRate(1e9, 1_000_000).withReads(Duration.ofSeconds(1), 16);
        int slow = n >= 100 ? 8 : 0;
        // The topic part put damaged records on the feedback topic too: the labels are those after its end.
        Map<TopicPartition, Long> from = feedbackEnd(catalog);
        FeedbackApiFuzzer.Tally tally;
        try (KafkaFeedbackSink sink = new KafkaFeedbackSink(catalog.topics(), catalog.settings());
             FeedbackServer server = new FeedbackServer(options, sink, new RecentGenerations(10, 4),
                     new SimpleMeterRegistry()).start();
             FeedbackApiFuzzer fuzzer = new FeedbackApiFuzzer(URI.create("http://127.0.0.1:" + server.port()),
                     Duration.ofSeconds(30))) {
            tally = fuzzer.run(new FeedbackRequests(options.maxBodyBytes()), random, n - slow, 32);
            if (slow > 0) {
                fuzzer.slowBodies(slow, options.readTimeout());
            }
            if (!fuzzer.healthy()) {
                failures.add("the feedback server no longer answers /health after the run");
            }
            failures.addAll(tally.failures());
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot start the feedback server: " + e.getMessage(), e);
        }
        Set<String> stored = storedFeedbackIds(catalog, from);
        Set<String> missing = new HashSet<>(tally.acceptedIds());
        missing.removeAll(stored);
        Set<String> extra = new HashSet<>(stored);
        extra.removeAll(tally.acceptedIds());
        if (!missing.isEmpty() || !extra.isEmpty()) {
            failures.add(missing.size() + " accepted labels missing from the feedback topic, " + extra.size()
                    + " on it that were never accepted: " + escaped(missing) + " and " + escaped(extra));
        }
        return new ApiRun(tally, stored.size(), missing.size() + extra.size());
    }

    /** Ids as Java escapes, so odd characters show as what they are. */
    private static String escaped(Set<String> ids) {
        return ids.stream().limit(5).map(id -> id.codePoints().mapToObj(c -> c >= 0x20 && c < 0x7F
                ? Character.toString(c) : String.format(Locale.ROOT, "\\u%04X", c)).collect(Collectors.joining()))
                .collect(Collectors.joining(", ", "[", "]"));
    }

    private static Map<TopicPartition, Long> feedbackEnd(CatalogTopics catalog) {
        TopicSpec<String, io.streamrlhf.schemas.avro.Feedback> spec = catalog.topics().feedback();
        try (KafkaConsumer<String, io.streamrlhf.schemas.avro.Feedback> consumer = feedbackConsumer(catalog)) {
            return consumer.endOffsets(consumer.partitionsFor(spec.name()).stream()
                    .map(p -> new TopicPartition(spec.name(), p.partition())).toList());
        }
    }

    private static KafkaConsumer<String, io.streamrlhf.schemas.avro.Feedback> feedbackConsumer(CatalogTopics catalog) {
        TopicSpec<String, io.streamrlhf.schemas.avro.Feedback> spec = catalog.topics().feedback();
        Map<String, Object> props = ClientSettings.consumer(catalog.settings());
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        return new KafkaConsumer<>(props, spec.keyDeserializer(), spec.valueDeserializer());
    }

    private static Set<String> storedFeedbackIds(CatalogTopics catalog, Map<TopicPartition, Long> from) {
        Set<String> ids = new HashSet<>();
        try (KafkaConsumer<String, io.streamrlhf.schemas.avro.Feedback> consumer = feedbackConsumer(catalog)) {
            List<TopicPartition> partitions = List.copyOf(from.keySet());
            consumer.assign(partitions);
            from.forEach(consumer::seek);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
            while (System.nanoTime() < deadline && partitions.stream()
                    .anyMatch(p -> consumer.position(p) < end.get(p))) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> ids.add(r.value().getFeedbackId()));
            }
        }
        return ids;
    }
}
