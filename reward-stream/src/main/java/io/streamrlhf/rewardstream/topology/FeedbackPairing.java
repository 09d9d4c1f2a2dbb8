package io.streamrlhf.rewardstream.topology;

import io.streamrlhf.schemas.avro.ConversationTurn;
import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.avro.FeedbackKind;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.PairVerdict;
import io.streamrlhf.schemas.avro.PreferencePair;
import io.streamrlhf.schemas.avro.Role;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Turns one feedback label into preference pairs: PAIRWISE gives one pair (preferred vs the other), BEST_OF_N gives
 * N-1 pairs (the best vs each other candidate, ids {@code <feedback_id>/<i>}). Candidates are inline texts (passed
 * straight through) or generation ids resolved by {@code lookup}. Missing or out-of-range labels are rejected with
 * the reason; unknown generations with {@link MissingGenerationsException}, after every other check, so a label
 * that throws it is valid and may be paired once they arrive. A PAIRWISE verdict of TIE or BOTH_BAD is valid and gives no pair. RATING
 * labels are {@link RatingPairing}'s.
 */
final class FeedbackPairing {

    private FeedbackPairing() {
    }

    static List<PreferencePair> pairs(Feedback feedback, Function<String, Generation> lookup, Instant now) {
        FeedbackKind kind = feedback.getKind();
        if (kind == FeedbackKind.RATING) {
            throw new IllegalArgumentException("RATING feedback is paired by RatingPairing");
        }
        if (kind != FeedbackKind.PAIRWISE && kind != FeedbackKind.BEST_OF_N) {
            throw new FeedbackRejectedException("feedback " + feedback.getFeedbackId() + " has kind " + kind
                    + ", which this reward stream does not know");
        }
        boolean inline = feedback.getGenerationIds().isEmpty();
        int n = inline ? feedback.getTexts().size() : feedback.getGenerationIds().size();
        if (!inline && !feedback.getTexts().isEmpty()) {
            throw new FeedbackRejectedException("feedback " + feedback.getFeedbackId()
                    + " gives both generation_ids and texts; give one of them");
        }
        if (n < 2 || (kind == FeedbackKind.PAIRWISE && n != 2)) {
            throw new FeedbackRejectedException("feedback " + feedback.getFeedbackId() + " (" + kind + ") has " + n
                    + " candidate(s); PAIRWISE needs 2 and BEST_OF_N at least 2");
        }
        PairVerdict verdict = feedback.getVerdict();
        if (verdict == PairVerdict.TIE || verdict == PairVerdict.BOTH_BAD) {
            // A valid label with no order: Bradley-Terry pairs need a better and a worse response, so it makes none.
            // It stays on the feedback topic for agreement studies and a tie-aware loss.
            if (feedback.getPreferredIndex() != null) {
                throw new FeedbackRejectedException("feedback " + feedback.getFeedbackId() + " has verdict "
                        + verdict + " and preferred_index " + feedback.getPreferredIndex() + "; a " + verdict
                        + " prefers neither candidate");
            }
            return List.of();
        }
        if (verdict == PairVerdict.UNKNOWN) {
            throw new FeedbackRejectedException("feedback " + feedback.getFeedbackId() + " has a verdict this reward "
                    + "stream does not know");
        }
        Integer preferred = feedback.getPreferredIndex();
        if (preferred == null || preferred < 0 || preferred >= n) {
            throw new FeedbackRejectedException("feedback " + feedback.getFeedbackId() + " has preferred_index "
                    + preferred + " for " + n + " candidates");
        }
        List<String> texts = new ArrayList<>(n);
        List<String> ids = new ArrayList<>(n);
        List<ConversationTurn> conversation = feedback.getConversation();
        String category = null;
        if (inline) {
            texts.addAll(feedback.getTexts());
            for (int i = 0; i < n; i++) {
                ids.add(null);
            }
        } else {
            List<String> missing = new ArrayList<>();
            Generation first = null;
            for (String id : feedback.getGenerationIds()) {
                Generation g = lookup.apply(id);
                if (g == null) {
                    missing.add(id);
                    texts.add(null);
                } else {
                    first = first == null ? g : first;
                    texts.add(g.getResponseText());
                }
                ids.add(id);
            }
            if (!missing.isEmpty()) {
                throw new MissingGenerationsException("feedback " + feedback.getFeedbackId()
                        + " names unknown generation(s) " + missing
                        + " (never seen on this partition, or older than the join window)", missing);
            }
            if (conversation.isEmpty()) {
                conversation = List.of(new ConversationTurn(Role.USER, first.getPromptText()));
            }
            category = first.getCategory();
        }
        List<PreferencePair> pairs = new ArrayList<>(n - 1);
        for (int i = 0; i < n; i++) {
            if (i == preferred) {
                continue;
            }
            String pairId = kind == FeedbackKind.PAIRWISE ? feedback.getFeedbackId()
                    : feedback.getFeedbackId() + "/" + i;
            pairs.add(PreferencePair.newBuilder()
                    .setPairId(pairId)
                    .setPromptId(feedback.getPromptId())
                    .setConversation(conversation)
                    .setChosen(texts.get(preferred))
                    .setRejected(texts.get(i))
                    .setChosenGenerationId(ids.get(preferred))
                    .setRejectedGenerationId(ids.get(i))
                    .setLabelSource(feedback.getSource())
                    .setFeedbackId(feedback.getFeedbackId())
                    .setConfidence(feedback.getConfidence())
                    .setStrength(null)
                    .setCategory(category)
                    .setCreatedAt(now)
                    .build());
        }
        return pairs;
    }
}
