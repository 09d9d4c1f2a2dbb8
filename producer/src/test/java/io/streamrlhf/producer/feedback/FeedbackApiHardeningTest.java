package io.streamrlhf.producer.feedback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.avro.FeedbackSource;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The feedback API's protections, each against the running server: tokens decide who labels, a body naming someone
 * else is refused, slow bodies lose their connection instead of the server's threads, callers over their rate get
 * 429 with Retry-After, duplicate ids are stored once, labels over the candidate cap are refused, an open API binds
 * loopback only, and HTTPS works with a keystore. In every refusal nothing reaches the sink.
 */
class FeedbackApiHardeningTest {

    static final String ALICE = "alice-token-0123456789abcdef";
    static final String JUDGE = "judge-token-0123456789abcdef";
    static final String A = FeedbackParserTest.A;
    static final String B = FeedbackParserTest.B;
    static final FeedbackTokens TOKENS = FeedbackTokens.of(Map.of(
            ALICE, new FeedbackTokens.Annotator("alice", FeedbackSource.HUMAN),
            JUDGE, new FeedbackTokens.Annotator("judge-1", FeedbackSource.AI_JUDGE)));

    @TempDir
    Path dir;

    private final List<Feedback> written = new CopyOnWriteArrayList<>();
    private final ObjectMapper json = new ObjectMapper();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private HttpClient http = HttpClient.newHttpClient();
    private FeedbackServer server;
    private String scheme = "http";

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private void start(FeedbackServer.Options options) throws Exception {
        server = new FeedbackServer(options, written::add, new RecentGenerations(10, 4), meters).start();
    }

    private static FeedbackServer.Options withTokens() {
        return FeedbackServer.Options.defaults().bind("127.0.0.1", 0).withTokens(TOKENS);
    }

    static String label(String extra) {
        return "{\"kind\":\"pairwise\",\"prompt_id\":\"p\",\"generation_ids\":[\"" + A + "\",\"" + B
                + "\"],\"preferred_index\":0" + extra + "}";
    }

    @Test
    void noTokenAndAWrongTokenAreRefusedAndWriteNothing() throws Exception {
        start(withTokens());
        HttpResponse<String> none = post(label(""), null);
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(error(none)).contains("missing bearer token");
        HttpResponse<String> wrong = post(label(""), "bob-token-0123456789abcdefXX");
        assertThat(wrong.statusCode()).isEqualTo(403);
        assertThat(error(wrong)).contains("not valid");
        assertThat(get("/api/pair", null).statusCode()).isEqualTo(401);
        assertThat(written).isEmpty();
    }

    @Test
    void theAnnotatorAndSourceComeFromTheTokenAndABodyNamingOthersIsRefused() throws Exception {
        start(withTokens());
        HttpResponse<String> other = post(label(",\"annotator_id\":\"bob\""), ALICE);
        assertThat(other.statusCode()).isEqualTo(403);
        assertThat(json.readTree(other.body()).path("field").asText()).isEqualTo("annotator_id");
        assertThat(error(other)).contains("'bob'").contains("'alice'");
        HttpResponse<String> source = post(label(",\"source\":\"simulated\""), ALICE);
        assertThat(source.statusCode()).isEqualTo(403);
        assertThat(json.readTree(source.body()).path("field").asText()).isEqualTo("source");
        assertThat(written).isEmpty();

        assertThat(post(label(""), ALICE).statusCode()).isEqualTo(202);
        assertThat(post(label(",\"annotator_id\":\"alice\",\"source\":\"human\""), ALICE).statusCode()).isEqualTo(202);
        HttpResponse<String> judged = post(label(""), JUDGE);
        assertThat(judged.statusCode()).isEqualTo(202);
        assertThat(json.readTree(judged.body()).path("annotator_id").asText()).isEqualTo("judge-1");
        assertThat(written).extracting(Feedback::getAnnotatorId, Feedback::getSource).containsExactly(
                org.assertj.core.groups.Tuple.tuple("alice", FeedbackSource.HUMAN),
                org.assertj.core.groups.Tuple.tuple("alice", FeedbackSource.HUMAN),
                org.assertj.core.groups.Tuple.tuple("judge-1", FeedbackSource.AI_JUDGE));
    }

    @Test
    void slowBodiesLoseTheirConnectionAndDoNotStallTheServer() throws Exception {
        start(withTokens().withReads(Duration.ofMillis(700), 2));
        List<Socket> slow = new ArrayList<>();
        try {
            // Twice as many slow senders as request threads: each promises 200 bytes and sends 10.
            for (int i = 0; i < 4; i++) {
                Socket s = new Socket("127.0.0.1", server.port());
                s.setSoTimeout(10_000);
                OutputStream out = s.getOutputStream();
                out.write(("POST /api/feedback HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + ALICE
                        + "\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"kind\":")
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                slow.add(s);
            }
            long t0 = System.nanoTime();
            HttpResponse<String> ok = post(label(""), ALICE);
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertThat(ok.statusCode()).isEqualTo(202);
            assertThat(seconds).as("a good request is served while slow senders are still connected").isLessThan(5);
            for (Socket s : slow) {
                InputStream in = s.getInputStream();
                long before = System.nanoTime();
                int b;
                try {
                    b = in.read();
                } catch (java.io.IOException e) {
                    b = -1;  // reset: closed as well
                }
                assertThat(b).as("the server closed the slow connection without an answer").isEqualTo(-1);
                assertThat((System.nanoTime() - before) / 1e9).isLessThan(5);
            }
        } finally {
            for (Socket s : slow) {
                s.close();
            }
        }
        // the server counts a timeout once the watchdog's interrupt has closed the connection, which the client may
        // see first
        Awaitility.await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(meters.get("rlhf.feedback.read_timeouts").counter().count()).isEqualTo(4.0));
        assertThat(written).hasSize(1);
    }

    @Test
    void aThousandRapidRequestsGet429sWithRetryAfterBeyondTheBurst() throws Exception {
        start(withTokens().withRate(5.0, 20));
        int accepted = 0;
        int limited = 0;
        long t0 = System.nanoTime();
        for (int i = 0; i < 1000; i++) {
            HttpResponse<String> r = post(label(",\"feedback_id\":\"f-" + i + "\""), ALICE);
            if (r.statusCode() == 202) {
                accepted++;
            } else {
                assertThat(r.statusCode()).isEqualTo(429);
                assertThat(r.headers().firstValue("Retry-After")).hasValueSatisfying(v ->
                        assertThat(Long.parseLong(v)).isBetween(1L, 60L));
                limited++;
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertThat(accepted).as("the burst, plus 5 a second refilled over %.1f s", seconds)
                .isBetween(20, 20 + (int) Math.ceil(seconds * 5) + 1);
        assertThat(limited).isEqualTo(1000 - accepted);
        assertThat(written).hasSize(accepted);
        // The limit is per token: another annotator is not held back by alice.
        assertThat(post(label(""), JUDGE).statusCode()).isEqualTo(202);
    }

    @Test
    void aDuplicateFeedbackIdIsStoredOnceAndTheMemoryOfIdsIsBounded() throws Exception {
        start(withTokens().withDuplicateIds(3));
        String id = UUID.randomUUID().toString();
        HttpResponse<String> first = post(label(",\"feedback_id\":\"" + id + "\""), ALICE);
        assertThat(first.statusCode()).isEqualTo(202);
        HttpResponse<String> again = post(label(",\"feedback_id\":\"" + id + "\""), ALICE);
        assertThat(again.statusCode()).isEqualTo(200);
        assertThat(json.readTree(again.body()).path("status").asText()).isEqualTo("duplicate");
        assertThat(written).hasSize(1);
        assertThat(meters.get("rlhf.feedback.duplicates").counter().count()).isEqualTo(1.0);
        for (int i = 0; i < 3; i++) {
            assertThat(post(label(",\"feedback_id\":\"other-" + i + "\""), ALICE).statusCode()).isEqualTo(202);
        }
        // Three newer ids pushed it out of the memory of 3.
        assertThat(post(label(",\"feedback_id\":\"" + id + "\""), ALICE).statusCode()).isEqualTo(202);
    }

    @Test
    void aLabelWithMoreCandidatesThanTheCapIsRefusedWithTheReason() throws Exception {
        start(withTokens().withLimits(64 * 1024, 4));
        StringBuilder ids = new StringBuilder();
        for (int i = 0; i < 5; i++) {
            ids.append(i == 0 ? "" : ",").append('"').append(UUID.randomUUID()).append('"');
        }
        HttpResponse<String> r = post("{\"kind\":\"best_of_n\",\"prompt_id\":\"p\",\"generation_ids\":[" + ids
                + "],\"preferred_index\":0}", ALICE);
        assertThat(r.statusCode()).isEqualTo(413);
        assertThat(json.readTree(r.body()).path("field").asText()).isEqualTo("generation_ids");
        assertThat(error(r)).contains("at most 4 candidates").contains("has 5");
        assertThat(written).isEmpty();
    }

    @Test
    void anOpenApiBindsLoopbackOnlyAndTokensAllowOtherAddresses() throws Exception {
        FeedbackServer open = new FeedbackServer(FeedbackServer.Options.defaults().bind("0.0.0.0", 0),
                written::add, new RecentGenerations(10, 4), meters);
        assertThatThrownBy(open::start).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("0.0.0.0").hasMessageContaining("--tokens");
        start(FeedbackServer.Options.defaults().bind("0.0.0.0", 0).withTokens(TOKENS));
        assertThat(post(label(""), ALICE).statusCode()).isEqualTo(202);
        server.close();
        // Open on loopback: the body names the annotator, as before tokens.
        start(FeedbackServer.Options.defaults().bind("127.0.0.1", 0));
        assertThat(post(label(",\"annotator_id\":\"local\""), null).statusCode()).isEqualTo(202);
        assertThat(written).extracting(Feedback::getAnnotatorId).containsExactly("alice", "local");
    }

    @Test
    void servesHttpsWithAKeystore() throws Exception {
        Path keystore = dir.resolve("server.p12");
        char[] password = "changeit-123".toCharArray();
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "feedback", "-keyalg", "EC", "-groupname", "secp256r1", "-dname",
                "CN=localhost", "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-validity", "2", "-storetype", "PKCS12",
                "-keystore", keystore.toString(), "-storepass", new String(password)).redirectErrorStream(true).start();
        String out = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(keytool.waitFor()).as(out).isZero();
        start(withTokens().withTls(new FeedbackServer.Tls(keystore, password)));

        KeyStore trust = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            trust.load(in, password);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        http = HttpClient.newBuilder().sslContext(context).build();
        scheme = "https";
        assertThat(post(label(""), ALICE).statusCode()).isEqualTo(202);
        assertThat(post(label(""), null).statusCode()).isEqualTo(401);
        assertThat(written).hasSize(1);
        assertThatThrownBy(() -> new FeedbackServer(withTokens().withTls(new FeedbackServer.Tls(keystore,
                "wrong".toCharArray())), written::add, new RecentGenerations(10, 4), meters).start())
                .hasMessageContaining("server.p12");
    }

    private String error(HttpResponse<String> r) throws Exception {
        JsonNode body = json.readTree(r.body());
        return body.path("error").asText();
    }

    private HttpResponse<String> post(String body, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri("/api/feedback")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).GET();
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return URI.create(scheme + "://127.0.0.1:" + server.port() + path);
    }
}
