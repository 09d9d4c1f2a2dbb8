package io.streamrlhf.producer.feedback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.producer.ItCluster;
import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.avro.FeedbackKind;
import io.streamrlhf.schemas.avro.FeedbackSource;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.PairVerdict;
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
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The rater page in a real browser (headless Chromium driven by Selenium through Debian's chromedriver): it shows
 * a prompt with two of its generations, a click becomes a HUMAN pairwise Feedback on the topic; a tie (by key, with
 * a confidence and a comment), both bad (by button), a skip (by key, nothing written) and ratings of one response
 * on a scale of 1 to 5 (by key and by button, keys inert while a comment is typed) follow, the counter of what is
 * left of the batch going down to "all done"; bad API requests on the same service write nothing.
 */
class RaterPageIT {

    static final String TOKEN = "selenium-token-0123456789abcdef";

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
             FeedbackServer server = new FeedbackServer(FeedbackServer.Options.defaults().bind("127.0.0.1", 0)
                     .withTokens(FeedbackTokens.of(Map.of(TOKEN, new FeedbackTokens.Annotator("selenium",
                             FeedbackSource.HUMAN)))).withLimits(8 * 1024, 16), sink, recent,
                     new SimpleMeterRegistry()).start()) {
            await().atMost(Duration.ofSeconds(60)).until(() -> recent.size() == 2);  // the tail filled the window
            String base = "http://127.0.0.1:" + server.port();

            // Refused requests on the same service: none of them may reach the topic.
            HttpClient http = HttpClient.newHttpClient();
            String bad = "{\"kind\":\"pairwise\",\"prompt_id\":\"prompt-r\",\"generation_ids\":[\"x\",\"y\"],"
                    + "\"preferred_index\":0}";
            String otherAnnotator = "{\"kind\":\"pairwise\",\"prompt_id\":\"prompt-r\",\"generation_ids\":[\""
                    + a.getGenerationId() + "\",\"" + b.getGenerationId() + "\"],\"preferred_index\":0,"
                    + "\"annotator_id\":\"z\"}";
            String[][] refused = {{null, bad, "401"}, {"Bearer " + TOKEN, bad, "400"},
                {"Bearer " + TOKEN, otherAnnotator, "403"}};
            for (String[] c : refused) {
                HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(base + "/api/feedback"))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(c[1]));
                if (c[0] != null) {
                    req.header("Authorization", c[0]);
                }
                HttpResponse<String> r = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(c[1]).isEqualTo(Integer.parseInt(c[2]));
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
                // The token alone says who rates; the page's ?annotator= would be refused if it differed.
                driver.get(base + "/rate?batch=6#token=" + TOKEN);
                WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));
                wait.until(ExpectedConditions.textToBe(By.id("left"), "6 left of 6"));
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
                wait.until(ExpectedConditions.textToBe(By.id("left"), "5 left of 6"));

                // A tie by key, with a confidence and a comment; Escape leaves the comment box so keys count again.
                wait.until(ExpectedConditions.elementToBeClickable(By.id("tie")));
                new Select(driver.findElement(By.id("confidence"))).selectByValue("0.75");
                driver.findElement(By.id("comment")).sendKeys("same facts, same tone");
                assertThat(driver.findElement(By.id("left")).getText()).as("typing rates nothing")
                        .isEqualTo("5 left of 6");
                new Actions(driver).sendKeys(Keys.ESCAPE).sendKeys("t").perform();
                wait.until(ExpectedConditions.textToBe(By.id("left"), "4 left of 6"));
                assertThat(driver.findElement(By.id("comment")).getDomProperty("value")).as("cleared").isEmpty();

                // Both bad by button, then a skip by key: the counter counts it, the topic gets nothing.
                wait.until(ExpectedConditions.elementToBeClickable(By.id("both-bad"))).click();
                wait.until(ExpectedConditions.textToBe(By.id("left"), "3 left of 6"));
                wait.until(ExpectedConditions.elementToBeClickable(By.id("skip-pair")));
                new Actions(driver).sendKeys("s").perform();
                wait.until(ExpectedConditions.textToBe(By.id("left"), "2 left of 6"));
                assertThat(driver.findElement(By.id("status")).getText()).startsWith("Skipped prompt prompt-r");

                // One response on a scale: R switches mode, 4 rates by key; then 2 by button with a comment.
                wait.until(ExpectedConditions.elementToBeClickable(By.id("tie")));
                new Actions(driver).sendKeys("r").perform();
                wait.until(ExpectedConditions.elementToBeClickable(By.id("rate-4")));
                assertThat(driver.findElement(By.id("pair-view")).isDisplayed()).isFalse();
                assertThat(driver.findElement(By.id("single")).getText()).containsAnyOf("the ocean is calm .",
                        "ocean ocean ocean");
                new Actions(driver).sendKeys("4").perform();
                wait.until(ExpectedConditions.textToBe(By.id("left"), "1 left of 6"));
                wait.until(ExpectedConditions.elementToBeClickable(By.id("rate-2")));
                driver.findElement(By.id("comment")).sendKeys("repeats itself 2 times");
                driver.findElement(By.id("rate-2")).click();
                wait.until(ExpectedConditions.textToBe(By.id("left"), "0 left of 6"));
                assertThat(driver.findElement(By.id("status")).getText())
                        .isEqualTo("All done: 5 labelled, 1 skipped. Reload the page for another batch.");
                assertThat(driver.findElement(By.id("rate-5")).isEnabled()).isFalse();
            } finally {
                driver.quit();
            }

            List<Feedback> labels = cluster.readAll(cluster.topics().feedback(), "read_committed").stream()
                    .map(ConsumerRecord::value).toList();
            assertThat(labels).hasSize(5).allSatisfy(f -> {
                assertThat(f.getSource()).isEqualTo(FeedbackSource.HUMAN);
                assertThat(f.getAnnotatorId()).isEqualTo("selenium");
                assertThat(f.getPromptId()).isEqualTo("prompt-r");
            });
            assertThat(labels.get(0)).satisfies(f -> {
                assertThat(f.getKind()).isEqualTo(FeedbackKind.PAIRWISE);
                assertThat(f.getGenerationIds()).containsExactly(shownFirst, shownSecond);
                assertThat(f.getPreferredIndex()).isEqualTo(1);
                assertThat(f.getVerdict()).isNull();
                assertThat(f.getConfidence()).isNull();
                assertThat(f.getComment()).isNull();
            });
            assertThat(labels.get(1)).satisfies(f -> {
                assertThat(f.getKind()).isEqualTo(FeedbackKind.PAIRWISE);
                assertThat(f.getVerdict()).isEqualTo(PairVerdict.TIE);
                assertThat(f.getPreferredIndex()).isNull();
                assertThat(f.getGenerationIds()).hasSize(2);
                assertThat(f.getConfidence()).isEqualTo(0.75);
                assertThat(f.getComment()).isEqualTo("same facts, same tone");
            });
            assertThat(labels.get(2)).satisfies(f -> {
                assertThat(f.getVerdict()).isEqualTo(PairVerdict.BOTH_BAD);
                assertThat(f.getPreferredIndex()).isNull();
                assertThat(f.getConfidence()).isNull();
                assertThat(f.getComment()).isNull();
            });
            assertThat(labels.subList(3, 5)).allSatisfy(f -> {
                assertThat(f.getKind()).isEqualTo(FeedbackKind.RATING);
                assertThat(f.getGenerationIds()).singleElement().isIn(a.getGenerationId(), b.getGenerationId());
                assertThat(f.getVerdict()).isNull();
            }).extracting(Feedback::getRating, Feedback::getComment).containsExactly(
                    org.assertj.core.groups.Tuple.tuple(4.0, null),
                    org.assertj.core.groups.Tuple.tuple(2.0, "repeats itself 2 times"));
        }
    }

    private static Path firstExisting(String... candidates) {
        return Stream.of(candidates).filter(c -> c != null && !c.isBlank()).map(Path::of)
                .filter(Files::isExecutable).findFirst().orElse(null);
    }
}
