package io.streamrlhf.producer.feedback;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.schemas.avro.ConversationTurn;
import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.avro.PairVerdict;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Posts each label to a feedback server's {@code POST /api/feedback} ({@link FeedbackServer}) in the API's JSON format
 * ({@link FeedbackParser}), with its own {@code feedback_id}: how simulated raters go through the server as people
 * do. A label is stored when the server answers 202 (or 200 for an id it stored already).
 *
 * <p>A failed post (the server down, a 4xx or 5xx, a timeout) throws and is not repeated here: a label whose post
 * failed may or may not be on the topic, and sending it again under the same id after a server restart (whose memory
 * of recent ids is gone) could store it twice. The caller labels again under new ids instead.
 */
public final class HttpFeedbackSink implements FeedbackSink {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI endpoint;
    private final String token;
    private final HttpClient http;
    private final Duration timeout;

    /**
     * @param server  the server's base URL ({@code http://127.0.0.1:8088})
     * @param token   an annotator's bearer token, or null for a server without tokens (loopback)
     * @param timeout how long one post may take
     */
    public HttpFeedbackSink(URI server, String token, Duration timeout) {
        Objects.requireNonNull(server, "server");
        String scheme = server.getScheme() == null ? "" : server.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https") || server.getHost() == null) {
            throw new IllegalArgumentException("feedback API URL " + server + " is not an http(s)://HOST:PORT URL");
        }
        this.endpoint = server.resolve("/api/feedback");
        this.token = token;
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        // the JDK server the API runs on speaks HTTP/1.1: no h2c upgrade attempt on every request
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout).build();
    }

    @Override
    public void write(Feedback feedback) {
        HttpRequest.Builder request = HttpRequest.newBuilder(endpoint).timeout(timeout)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json(feedback).toString()));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            // a refused connection (the server down or restarting) has no message of its own
            throw new UncheckedIOException("could not post feedback " + feedback.getFeedbackId() + " to " + endpoint
                    + ": " + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while posting feedback " + feedback.getFeedbackId(), e);
        }
        if (response.statusCode() != 202 && response.statusCode() != 200) {
            throw new IllegalStateException(endpoint + " answered " + response.statusCode() + " to feedback "
                    + feedback.getFeedbackId() + ": " + response.body());
        }
    }

    /** One post per label (the API takes one a request); stops at the first that fails. */
    @Override
    public void writeAll(List<Feedback> feedback) {
        for (Feedback f : feedback) {
            write(f);
        }
    }

    /** The label as the API's JSON. */
    static ObjectNode json(Feedback f) {
        ObjectNode body = JSON.createObjectNode();
        body.put("feedback_id", f.getFeedbackId());
        body.put("kind", f.getKind().name().toLowerCase(Locale.ROOT));
        body.put("prompt_id", f.getPromptId());
        if (!f.getGenerationIds().isEmpty()) {
            ArrayNode ids = body.putArray("generation_ids");
            f.getGenerationIds().forEach(ids::add);
        }
        if (!f.getConversation().isEmpty()) {
            ArrayNode turns = body.putArray("conversation");
            for (ConversationTurn t : f.getConversation()) {
                turns.addObject().put("role", t.getRole().name().toLowerCase(Locale.ROOT))
                        .put("content", t.getContent());
            }
        }
        if (!f.getTexts().isEmpty()) {
            ArrayNode texts = body.putArray("texts");
            f.getTexts().forEach(texts::add);
        }
        if (f.getPreferredIndex() != null) {
            body.put("preferred_index", f.getPreferredIndex());
        }
        if (f.getVerdict() != null && f.getVerdict() != PairVerdict.UNKNOWN) {
            body.put("verdict", f.getVerdict().name().toLowerCase(Locale.ROOT));
        }
        if (f.getRating() != null) {
            body.put("rating", f.getRating());
        }
        if (f.getConfidence() != null) {
            body.put("confidence", f.getConfidence());
        }
        body.put("annotator_id", f.getAnnotatorId());
        body.put("source", f.getSource().name().toLowerCase(Locale.ROOT));
        if (f.getComment() != null) {
            body.put("comment", f.getComment());
        }
        return body;
    }
}
