package io.streamrlhf.producer.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.producer.feedback.FeedbackServer;
import io.streamrlhf.producer.feedback.FeedbackSink;
import io.streamrlhf.producer.feedback.RecentGenerations;
import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.registry.InMemorySchemaRegistryClient;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;

/**
 * Fuzzes the running feedback API with {@link FeedbackRequests} (fixed seeds): malformed JSON, wrong types, hostile
 * values, huge bodies, wrong content types and routes, 800 one at a time and 800 over 64 connections at once, and slow
 * bodies. Every request is answered 2xx, or 4xx with a reason, within the timeout; exactly the accepted labels are
 * stored; and the server still serves afterwards.
 */
class FeedbackApiFuzzTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final List<Feedback> WRITTEN = new CopyOnWriteArrayList<>();
    private static FeedbackServer server;
    private static FeedbackApiFuzzer fuzzer;
    private static final FeedbackRequests REQUESTS = new FeedbackRequests(64 * 1024);
    /** Labels go through the topic's serde, as on Kafka, so what is stored is what the wire keeps. */
    private static final TopicSpec<String, Feedback> TOPIC = Topics.builder().prefix("fuzz.")
            .registryClient(new InMemorySchemaRegistryClient()).build().feedback();

    @BeforeContainer
    static void start() throws Exception {
        // No rate limit to speak of: the fuzzer is one caller sending as fast as it can.
        FeedbackSink sink = f -> WRITTEN.add(TOPIC.valueDeserializer().deserialize(TOPIC.name(),
                TOPIC.valueSerializer().serialize(TOPIC.name(), f)));
        server = new FeedbackServer(FeedbackServer.Options.defaults().bind("127.0.0.1", 0).withRate(1e9, 1_000_000)
                .withReads(Duration.ofSeconds(1), 8), sink, new RecentGenerations(10, 4), new SimpleMeterRegistry())
                .start();
        fuzzer = new FeedbackApiFuzzer(URI.create("http://127.0.0.1:" + server.port()), TIMEOUT);
    }

    @AfterContainer
    static void stop() {
        fuzzer.close();
        server.close();
    }

    @Property(tries = 800, seed = "20261207", shrinking = ShrinkingMode.OFF, edgeCases = EdgeCasesMode.NONE)
    void everyRequestIsAnswered2xxOr4xxWithAReasonAndOnlyAcceptedLabelsAreStored(
            @ForAll("requests") FeedbackRequests.Request request) {
        int before = WRITTEN.size();
        long crashes = fuzzer.tally().crashes();
        long hangs = fuzzer.tally().hangs();
        int status = fuzzer.send(request);
        Statistics.collect(request.kind(), status);
        assertThat(fuzzer.tally().crashes()).as("crash: %s", fuzzer.tally().failures()).isEqualTo(crashes);
        assertThat(fuzzer.tally().hangs()).as("hang: %s", fuzzer.tally().failures()).isEqualTo(hangs);
        assertThat(WRITTEN.size() - before).as("labels stored for a %d answer to %s", status, request.describe())
                .isEqualTo(status == 202 ? 1 : 0);
        if (request.kind() == FeedbackRequests.Kind.VALID) {
            // 200 is a feedback_id seen before, answered "duplicate" and not stored again.
            assertThat(status).as(request.describe()).isIn(200, 202);
        }
    }

    @Provide
    Arbitrary<FeedbackRequests.Request> requests() {
        return Arbitraries.longs().map(seed -> REQUESTS.next(new Random(seed)));
    }

    @Example
    void sixtyFourConnectionsAtOnceGetAnswersAndTheStoredLabelsAreExactlyTheAcceptedOnes() throws Exception {
        int before = WRITTEN.size();
        long accepted = fuzzer.tally().accepted();
        long rejected = fuzzer.tally().rejected4xx();
        FeedbackApiFuzzer.Tally tally = fuzzer.run(REQUESTS, new Random(20261207L), 800, 64);
        assertThat(tally.crashes()).as("%s", tally.failures()).isZero();
        assertThat(tally.hangs()).as("%s", tally.failures()).isZero();
        assertThat(tally.accepted() - accepted).isGreaterThan(150);
        assertThat(tally.rejected4xx() - rejected).isGreaterThan(300);
        assertThat(WRITTEN.subList(before, WRITTEN.size()).stream().map(Feedback::getFeedbackId)
                .collect(Collectors.toSet())).isSubsetOf(tally.acceptedIds()).hasSize(WRITTEN.size() - before);
        assertThat(fuzzer.healthy()).isTrue();
    }

    @Example
    void aBodyNestedDeeperThanTheParserFollowsIsA400NotA500() {
        // Jackson's nesting limit raises an error without a location; the answer used to be a 500.
        String deep = "{\"kind\":" + "[".repeat(5_000) + "]".repeat(5_000) + "}";
        int before = WRITTEN.size();
        int status = fuzzer.send(new FeedbackRequests.Request(FeedbackRequests.Kind.HOSTILE_VALUES, "POST",
                "/api/feedback", "application/json", deep.getBytes(java.nio.charset.StandardCharsets.UTF_8), false,
                null));
        assertThat(status).isEqualTo(400);
        assertThat(WRITTEN).hasSize(before);
    }

    @Example
    void aBodyOverTheLimitIsAnswered413AndTheConnectionCarriesTheNextRequest() {
        // The server used to answer from Content-Length and close with the body unread: the reset often reached the
        // client before the 413, so it saw no answer at all.
        byte[] big = ("{\"comment\":\"" + "x".repeat(200_000) + "\"}")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        long crashes = fuzzer.tally().crashes();
        for (int i = 0; i < 10; i++) {
            assertThat(fuzzer.send(new FeedbackRequests.Request(FeedbackRequests.Kind.HUGE_BODY, "POST",
                    "/api/feedback", "application/json", big, i % 2 == 1, null))).isEqualTo(413);
            assertThat(fuzzer.send(REQUESTS.next(FeedbackRequests.Kind.VALID, new Random(100 + i)))).isEqualTo(202);
        }
        assertThat(fuzzer.tally().crashes()).isEqualTo(crashes);
    }

    @Example
    void slowBodiesAreCutOffAndTheServerStillServesAValidLabel() throws Exception {
        // Twice as many slow senders as request threads, each promising 200 bytes and sending 8.
        assertThat(fuzzer.slowBodies(16, Duration.ofSeconds(1))).isEqualTo(16);
        assertThat(fuzzer.tally().hangs()).isZero();
        int before = WRITTEN.size();
        assertThat(fuzzer.send(REQUESTS.next(FeedbackRequests.Kind.VALID, new Random(7)))).isEqualTo(202);
        assertThat(WRITTEN).hasSize(before + 1);
    }
}
