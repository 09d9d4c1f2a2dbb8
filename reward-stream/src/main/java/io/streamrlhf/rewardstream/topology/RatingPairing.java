package io.streamrlhf.rewardstream.topology;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.schemas.avro.ConversationTurn;
import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.avro.FeedbackKind;
import io.streamrlhf.schemas.avro.FeedbackSource;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.PreferencePair;
import io.streamrlhf.schemas.avro.PreferenceStrength;
import io.streamrlhf.schemas.avro.Role;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * Turns RATING feedback into preference pairs: a rating of one response is paired with every earlier rating of a
 * <em>different</em> response to the same prompt that scored differently — the higher-rated response is chosen —
 * and the pair's strength is the rating gap ({@code strength.mean} = gap, {@code std} 0, {@code ensemble_size} 0:
 * the label's own strength, not one the reward models measured). Equal ratings make no pair.
 *
 * <p>Pairs rather than a regression term, because every reward-model method here (Bradley–Terry, label flipping and
 * smoothing, adaptive margins, MetaRM) trains on pairs, and raters' absolute scales drift between people while
 * their order on one prompt holds (the argument of Llama 2's and HelpSteer's pairwise conversions).
 *
 * <p>Earlier ratings are kept per prompt in a changelogged state store (the newest {@value #KEPT} per prompt), so a
 * restart neither loses nor repeats pairs: the store and the pairs commit in one transaction.
 */
final class RatingPairing {
    /** Ratings kept per prompt; older ones are no longer paired with new ratings. */
    static final int KEPT = 64;
    private static final ObjectMapper JSON = new ObjectMapper();

    private RatingPairing() {
    }

    /**
     * One rated response as the store keeps it.
     *
     * @param feedbackId   the rating's feedback id
     * @param generationId the response's generation id, or {@code null} when it was given inline
     * @param prompt       the prompt text (user turn) the response answers
     * @param text         the response text
     * @param rating       the rating
     * @param confidence   the rater's confidence, or {@code null}
     * @param source       HUMAN, SIMULATED or AI_JUDGE
     * @param category     the prompt's category, or {@code null}
     */
    record Rated(String feedbackId, String generationId, String prompt, String text, double rating,
                 Double confidence, String source, String category) {

        boolean sameResponse(Rated other) {
            return generationId != null && other.generationId != null ? generationId.equals(other.generationId)
                    : text.equals(other.text);
        }
    }

    /**
     * Checks a RATING and resolves its one response.
     *
     * @throws FeedbackRejectedException naming what is wrong; {@link MissingGenerationsException}, after every
     *                                   other check, when the store does not hold the rated generation
     */
    static Rated rated(Feedback feedback, Function<String, Generation> lookup) {
        if (feedback.getKind() != FeedbackKind.RATING) {
            throw new IllegalArgumentException("not a RATING: " + feedback.getKind());
        }
        String id = feedback.getFeedbackId();
        Double rating = feedback.getRating();
        if (rating == null || !Double.isFinite(rating)) {
            throw new FeedbackRejectedException("feedback " + id + " is a RATING without a finite rating (" + rating
                    + ")");
        }
        int n = feedback.getGenerationIds().size() + feedback.getTexts().size();
        if (n != 1) {
            throw new FeedbackRejectedException("feedback " + id + " is a RATING of " + n
                    + " candidates; a rating names exactly one generation id or one text");
        }
        Double confidence = feedback.getConfidence();
        String source = feedback.getSource().name();
        if (feedback.getTexts().size() == 1) {
            String prompt = feedback.getConversation().stream().filter(t -> t.getRole() == Role.USER)
                    .reduce((a, b) -> b).map(ConversationTurn::getContent).orElse("");
            return new Rated(id, null, prompt, feedback.getTexts().get(0), rating, confidence, source, null);
        }
        String generationId = feedback.getGenerationIds().get(0);
        Generation g = lookup.apply(generationId);
        if (g == null) {
            throw new MissingGenerationsException("feedback " + id + " rates unknown generation " + generationId
                    + " (never seen on this partition, or older than the join window)", List.of(generationId));
        }
        return new Rated(id, generationId, g.getPromptText(), g.getResponseText(), rating, confidence, source,
                g.getCategory());
    }

    /** The pairs {@code fresh} makes with the {@code earlier} ratings of its prompt, in their order. */
    static List<PreferencePair> pairs(String promptId, Rated fresh, List<Rated> earlier, Instant now) {
        List<PreferencePair> out = new ArrayList<>();
        for (Rated old : earlier) {
            if (old.sameResponse(fresh) || old.rating() == fresh.rating()) {
                continue;
            }
            Rated chosen = fresh.rating() > old.rating() ? fresh : old;
            Rated rejected = chosen == fresh ? old : fresh;
            out.add(PreferencePair.newBuilder()
                    .setPairId(fresh.feedbackId() + "~" + old.feedbackId())
                    .setPromptId(promptId)
                    .setConversation(List.of(new ConversationTurn(Role.USER, fresh.prompt())))
                    .setChosen(chosen.text())
                    .setRejected(rejected.text())
                    .setChosenGenerationId(chosen.generationId())
                    .setRejectedGenerationId(rejected.generationId())
                    .setLabelSource(FeedbackSource.valueOf(fresh.source()))
                    .setFeedbackId(fresh.feedbackId())
                    .setConfidence(minConfidence(fresh.confidence(), old.confidence()))
                    .setStrength(new PreferenceStrength(chosen.rating() - rejected.rating(), 0.0, 0, List.of()))
                    .setCategory(fresh.category() != null ? fresh.category() : old.category())
                    .setCreatedAt(now)
                    .build());
        }
        return out;
    }

    private static Double minConfidence(Double a, Double b) {
        // Boxed on purpose: with a bare Math.min the conditional is a double and unboxes a null confidence.
        return a == null ? b : b == null ? a : Double.valueOf(Math.min(a, b));
    }

    /** The store's value: the ratings of one prompt, oldest first. */
    static byte[] toBytes(List<Rated> ratings) {
        try {
            return JSON.writeValueAsBytes(ratings);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads {@link #toBytes}; {@code null} reads as no ratings. */
    static List<Rated> fromBytes(byte[] bytes) {
        if (bytes == null) {
            return new ArrayList<>();
        }
        try {
            return new ArrayList<>(Arrays.asList(JSON.readValue(bytes, Rated[].class)));
        } catch (IOException e) {
            throw new UncheckedIOException("unreadable ratings store entry", e);
        }
    }

    /** {@code earlier} plus {@code fresh}, keeping the newest {@value #KEPT}. */
    static List<Rated> append(List<Rated> earlier, Rated fresh) {
        List<Rated> out = new ArrayList<>(earlier);
        out.add(Objects.requireNonNull(fresh));
        return out.size() <= KEPT ? out : new ArrayList<>(out.subList(out.size() - KEPT, out.size()));
    }
}
