package io.streamrlhf.evaluator.rmb;

import io.streamrlhf.rewardstream.scoring.ScoringInput;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One RMB test item, pairwise or Best-of-N, in one shape: the responses with the preferred one first. A pairwise item
 * has two responses (chosen, rejected); a Best-of-N item has the best and then every loser. Either way an evaluator
 * is right on the item when it scores {@code responses[0]} strictly above every other response (DESIGN section 7),
 * so one rule serves both sets.
 *
 * @param set          which set the item belongs to
 * @param uid          {@code pair_uid} or {@code bon_uid}
 * @param conversation the conversation the responses answer, oldest turn first
 * @param responses    the preferred response first, then the others
 * @param categoryPath the scenario, e.g. {@code Pairwise_set/Helpfulness/Code/Documentation}
 */
public record RmbItem(RmbSet set, String uid, List<RmbTurn> conversation, List<RmbResponse> responses,
                      String categoryPath) {

    /** Checks the shape: a pairwise item has exactly two responses, a Best-of-N item at least two. */
    public RmbItem {
        Objects.requireNonNull(set, "set");
        Objects.requireNonNull(uid, "uid");
        Objects.requireNonNull(categoryPath, "categoryPath");
        conversation = List.copyOf(conversation);
        responses = List.copyOf(responses);
        if (set == RmbSet.PAIRWISE && responses.size() != 2) {
            throw new IllegalArgumentException("pairwise item " + uid + " has " + responses.size()
                    + " responses; expected chosen and rejected");
        }
        if (responses.size() < 2) {
            throw new IllegalArgumentException("best-of-n item " + uid + " has " + responses.size()
                    + " responses; expected the best and at least one loser");
        }
    }

    /** A pairwise item. */
    public static RmbItem pairwise(String uid, List<RmbTurn> conversation, RmbResponse chosen, RmbResponse rejected,
                                   String categoryPath) {
        return new RmbItem(RmbSet.PAIRWISE, uid, conversation, List.of(chosen, rejected), categoryPath);
    }

    /** A Best-of-N item. */
    public static RmbItem bestOfN(String uid, List<RmbTurn> conversation, RmbResponse best, List<RmbResponse> losers,
                                  String categoryPath) {
        List<RmbResponse> all = new ArrayList<>(losers.size() + 1);
        all.add(best);
        all.addAll(losers);
        return new RmbItem(RmbSet.BEST_OF_N, uid, conversation, all, categoryPath);
    }

    /** The chosen (pairwise) or best (Best-of-N) response. */
    public RmbResponse preferred() {
        return responses.get(0);
    }

    /** The rejected response or the losers. */
    public List<RmbResponse> others() {
        return responses.subList(1, responses.size());
    }

    /** The goal named by the category path. */
    public RmbGoal goal() {
        return RmbGoal.of(categoryPath);
    }

    /** A key unique across both sets: {@code pairwise/<uid>} or {@code bon/<uid>}. */
    public String key() {
        return set.label() + "/" + uid;
    }

    /** The conversation rendered as one prompt text ({@link RmbPrompt#render}). */
    public String promptText() {
        return RmbPrompt.render(conversation);
    }

    /** One scoring input per response, in response order; ids are {@code <key>#<index>}. */
    public List<ScoringInput> scoringInputs() {
        String prompt = promptText();
        List<ScoringInput> inputs = new ArrayList<>(responses.size());
        for (int i = 0; i < responses.size(); i++) {
            inputs.add(new ScoringInput(key() + "#" + i, prompt, responses.get(i).answer(), null, null,
                    categoryPath));
        }
        return inputs;
    }
}
