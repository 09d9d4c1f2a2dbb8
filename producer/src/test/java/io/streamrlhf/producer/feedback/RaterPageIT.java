package io.streamrlhf.producer.feedback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.producer.ItCluster;
import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.avro.FeedbackKind;
import io.streamrlhf.schemas.avro.FeedbackSource;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.topics.TopicSpec;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The rater page in a real browser (headless Chromium driven by Selenium through Debian's chromedriver): it shows
 * a prompt with two of its generations, a click becomes a HUMAN pairwise Feedback on the topic; bad API requests
 * on the same service write nothing.
 */
class RaterPageIT {

    static final String TOKEN = "page-token";

    @Test
    @SuppressWarnings("try")  // the tail works through the window it fills; the body never names it
    void aClickOnTheRaterPageBecomesAFeedbackRecord() throws Exception {
        Path chromium = firstExisting(System.getenv("CHROME_BIN"), "/usr/bin/chromium", "/usr/bin/chromium-browser",
                "/usr/bin/google-chrome");
        Path driverBinary = firstExisting(System.getenv("CHROMEDRIVER"), "/usr/bin/chromedriver",
                "/usr/lib/chromium/chromedriver");
        Assumptions.assumeTrue(chromium != null && driverBinary != null, "no Chromium or chromedriver here "
                + "(install Debian's chromium and chromium-driver; .ci/run does where apt is usable); skipping the "
                + "browser test");

        ItCluster cluster = new ItCluster("rater", 1);
        Generation a = SimulatedRatersTest.generation("prompt-r", "write about the ocean :", "the ocean is calm .");
        Generation b = SimulatedRatersTest.generation("prompt-r", "write about the ocean :", "ocean ocean ocean");
        TopicSpec<String, Generation> gens = cluster.topics().generations();
        try (KafkaProducer<String, Generation> p = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                cluster.bootstrap()), gens.keySerializer(), gens.valueSerializer())) {
            p.send(new ProducerRecord<>(gens.name(), a.getPromptId(), a)).get();
            p.send(new ProducerRecord<>(gens.name(), b.getPromptId(), b)).get();
        }

        RecentGenerations recent = new RecentGenerations(100, 8);
        try (GenerationTail tail = new GenerationTail(cluster.topics(), cluster.settings(), recent, 100).start();
             KafkaFeedbackSink sink = new KafkaFeedbackSink(cluster.topics(), cluster.settings());
             FeedbackServer server = new FeedbackServer(new FeedbackServer.Options("127.0.0.1", 0,
                     Optional.of(TOKEN), 8 * 1024), sink, recent, new SimpleMeterRegistry()).start()) {
            await().atMost(Duration.ofSeconds(60)).until(() -> recent.size() == 2);  // the tail filled the window
            String base = "http://127.0.0.1:" + server.port();

            // Refused requests on the same service: none of them may reach the topic.
            HttpClient http = HttpClient.newHttpClient();
            String bad = "{\"kind\":\"pairwise\",\"prompt_id\":\"prompt-r\",\"generation_ids\":[\"x\",\"y\"],"
                    + "\"preferred_index\":0,\"annotator_id\":\"z\"}";
            for (String auth : new String[] {null, "Bearer " + TOKEN}) {
                HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(base + "/api/feedback"))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(bad));
                if (auth != null) {
                    req.header("Authorization", auth);
                }
                HttpResponse<String> r = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(auth == null ? 401 : 400);
            }

            ChromeOptions options = new ChromeOptions();
            options.setBinary(chromium.toFile());
            options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-dev-shm-usage");
            ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(driverBinary.toFile())
                    .usingAnyFreePort().build();
            WebDriver driver = new ChromeDriver(service, options);
            String shownFirst;
            String shownSecond;
            try {
                driver.get(base + "/rate?annotator=selenium#token=" + TOKEN);
                WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));
                WebElement second = wait.until(ExpectedConditions.elementToBeClickable(By.id("response-1")));
                WebElement first = driver.findElement(By.id("response-0"));
                assertThat(driver.findElement(By.id("prompt")).getText()).isEqualTo("write about the ocean :");
                assertThat(List.of(first.getText(), second.getText()))
                        .anySatisfy(t -> assertThat(t).contains("the ocean is calm ."))
                        .anySatisfy(t -> assertThat(t).contains("ocean ocean ocean"));
                shownFirst = first.getDomAttribute("data-generation-id");
                shownSecond = second.getDomAttribute("data-generation-id");
                second.click();
                wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("status"), "Recorded"));
            } finally {
                driver.quit();
            }

            List<Feedback> labels = cluster.readAll(cluster.topics().feedback(), "read_committed").stream()
                    .map(ConsumerRecord::value).toList();
            assertThat(labels).singleElement().satisfies(f -> {
                assertThat(f.getKind()).isEqualTo(FeedbackKind.PAIRWISE);
                assertThat(f.getSource()).isEqualTo(FeedbackSource.HUMAN);
                assertThat(f.getAnnotatorId()).isEqualTo("selenium");
                assertThat(f.getPromptId()).isEqualTo("prompt-r");
                assertThat(f.getGenerationIds()).containsExactly(shownFirst, shownSecond);
                assertThat(f.getPreferredIndex()).isEqualTo(1);
            });
        }
    }

    private static Path firstExisting(String... candidates) {
        return Stream.of(candidates).filter(c -> c != null && !c.isBlank()).map(Path::of)
                .filter(Files::isExecutable).findFirst().orElse(null);
    }
}
