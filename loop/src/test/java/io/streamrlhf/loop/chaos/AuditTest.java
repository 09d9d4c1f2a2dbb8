package io.streamrlhf.loop.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link Audit} on hand-built topic contents: a clean run, then one fault of each kind it must find. */
class AuditTest {

    private static final String PROMPTS = "rlhf.prompts";
    private static final String GENERATIONS = "rlhf.generations";
    private static final String SCORED = "rlhf.scored";

    /** Topic contents that a clean run of 3 prompts of 2 samples each would leave, mutable for the faults. */
    private static final class Topics {
        final List<Audit.Prompt> prompts = new ArrayList<>();
        final List<Audit.Generation> generations = new ArrayList<>();
        final List<Audit.Scored> scored = new ArrayList<>();
        final List<Audit.DeadLetter> dead = new ArrayList<>();
        final List<Audit.LedgerEntry> ledger = new ArrayList<>();
        final List<String> feedback = new ArrayList<>(List.of("f1", "f2"));
        final List<Audit.Preference> preferences = new ArrayList<>(List.of(new Audit.Preference("f1", "f1"),
                new Audit.Preference("f2/0", "f2"), new Audit.Preference("f2/2", "f2")));
        List<Long> versions = List.of(1L, 2L, 3L);
        final List<Audit.Lag> lags = new ArrayList<>(List.of(new Audit.Lag("rlhf-workers", "worker", 0, 0),
                new Audit.Lag("rlhf-reward-stream", "score", 0, 0), new Audit.Lag("rlhf-learner", "learn", 20, 32)));

        Topics() {
            long offset = 0;
            for (int p = 0; p < 3; p++) {
                prompts.add(new Audit.Prompt("p" + p, 2, 0, p));
                for (int i = 0; i < 2; i++) {
                    String id = "p" + p + "-" + i;
                    generations.add(new Audit.Generation(id, "p" + p, i, "w" + i, i, p));
                    scored.add(new Audit.Scored(id, 0, offset));
                    ledger.add(new Audit.LedgerEntry(id, 0, offset));
                    offset += 2;  // transaction markers take offsets too
                }
            }
        }

        Audit.Findings audit() {
            return Audit.of(new Audit.Input(PROMPTS, GENERATIONS, SCORED, prompts, generations, scored, dead, ledger,
                    feedback, preferences, Map.of("policy", versions), Map.of("rm", List.of(1L, 2L)), lags));
        }
    }

    @Test
    void aCleanRunHasNothingLostTwiceOrStuck() {
        Audit.Findings f = new Topics().audit();
        assertThat(f.problems()).isEmpty();
        assertThat(f.lost()).isZero();
        assertThat(f.duplicated()).isZero();
        assertThat(f.stuck()).isZero();
        assertThat(f.prompts()).isEqualTo(3);
        assertThat(f.generations()).isEqualTo(6);
        assertThat(f.scored()).isEqualTo(6);
        assertThat(f.byWorker()).isEqualTo(Map.of("w0", 3L, "w1", 3L));
    }

    @Test
    void aMissingGenerationIsLostAndASecondOneDuplicated() {
        Topics t = new Topics();
        t.generations.remove(5);
        t.scored.remove(5);
        t.ledger.remove(5);
        Audit.Findings f = t.audit();
        assertThat(f.lost()).isEqualTo(1);
        assertThat(f.problems()).containsExactly("prompt p2: 1 of 2 generations missing");

        Topics twice = new Topics();
        twice.generations.add(new Audit.Generation("p2-1b", "p2", 1, "w0", 1, 9));
        twice.scored.add(new Audit.Scored("p2-1b", 0, 99));
        assertThat(twice.audit().duplicated()).isEqualTo(1);
        assertThat(twice.audit().problems()).contains("prompt p2: 1 group indexes generated twice");
    }

    @Test
    void aGenerationNeitherScoredNorDeadLetteredIsLostAndOneDeadLetteredWithAReasonIsNot() {
        Topics t = new Topics();
        t.scored.remove(3);
        t.ledger.remove(3);
        assertThat(t.audit().lost()).isEqualTo(1);
        assertThat(t.audit().problems()).containsExactly("generation p1-1 neither scored nor dead-lettered");

        t.dead.add(new Audit.DeadLetter(GENERATIONS, 1, 1, "token id 70000 outside the vocabulary of 64"));
        assertThat(t.audit().lost()).isZero();
        assertThat(t.audit().dlq()).containsExactlyEntriesOf(Map.of(GENERATIONS, 1L));
        assertThat(t.audit().dlqReasons()).containsExactlyEntriesOf(Map.of(
                GENERATIONS + ": token id <n> outside the vocabulary of <n>", 1L));

        t.dead.set(0, new Audit.DeadLetter(GENERATIONS, 1, 1, " "));
        assertThat(t.audit().problems()).contains("a dead letter of rlhf.generations 1@1 gives no reason");
    }

    @Test
    void scoredTwiceOrScoredAndDeadLetteredIsDuplicated() {
        Topics t = new Topics();
        t.scored.add(new Audit.Scored("p0-0", 1, 0));
        assertThat(t.audit().duplicated()).isEqualTo(1);
        assertThat(t.audit().problems()).contains("generation p0-0 scored 2 times and dead-lettered 0");

        Topics u = new Topics();
        u.dead.add(new Audit.DeadLetter(GENERATIONS, 0, 0, "bad"));
        assertThat(u.audit().duplicated()).isEqualTo(1);
        u.dead.add(new Audit.DeadLetter(GENERATIONS, 0, 0, "bad"));
        assertThat(u.audit().problems()).contains("dead-lettered 2 times: rlhf.generations-0@0");
    }

    @Test
    void theLedgerHoldsEachRecordOnceWithNoGapInsideItsOffsets() {
        Topics twice = new Topics();
        twice.ledger.add(new Audit.LedgerEntry("p1-0", 0, 4));
        assertThat(twice.audit().duplicated()).isEqualTo(1);
        assertThat(twice.audit().problems()).contains("the learner's ledger holds generation p1-0 2 times");

        Topics gap = new Topics();
        gap.ledger.remove(2);  // offset 4, between 2 and 6
        assertThat(gap.audit().lost()).isEqualTo(1);
        assertThat(gap.audit().problems()).containsExactly(
                "the learner's ledger skips scored record 0@4 (generation p1-0) inside the offsets it covers");

        Topics tail = new Topics();
        tail.ledger.remove(5);  // the newest record: not trained yet, no gap
        assertThat(tail.audit().lost()).isZero();

        Topics deadInLearner = new Topics();
        deadInLearner.ledger.remove(2);
        deadInLearner.dead.add(new Audit.DeadLetter(SCORED, 0, 4, "log-prob NaN"));
        assertThat(deadInLearner.audit().lost()).isZero();
    }

    @Test
    void aPreferencePairMadeTwiceAndVersionsNotIncreasingAreDuplicates() {
        Topics t = new Topics();
        assertThat(t.audit().duplicated()).as("a best-of-3 label's two pairs").isZero();
        t.preferences.add(new Audit.Preference("f2/0", "f2"));
        assertThat(t.audit().duplicated()).isEqualTo(1);
        assertThat(t.audit().problems()).contains("preference pair f2/0 made 2 times");

        Topics v = new Topics();
        v.versions = List.of(1L, 2L, 2L, 3L);
        assertThat(v.audit().duplicated()).isEqualTo(1);
        assertThat(v.audit().problems()).contains("policy policy: version 2 published after 2");

        // a resumed zombie that got a publication through: it held 2 when paused, its successor published 3 and 4
        Topics zombie = new Topics();
        zombie.versions = List.of(1L, 2L, 3L, 4L, 3L);
        assertThat(zombie.audit().duplicated()).isEqualTo(1);
        assertThat(zombie.audit().problems()).contains("policy policy: version 3 published after 4");
    }

    @Test
    void workLeftBehindALaggingGroupIsStuckNotLost() {
        Topics t = new Topics();
        t.scored.remove(5);
        t.ledger.remove(5);
        t.lags.set(1, new Audit.Lag("rlhf-reward-stream", "score", 1, 0));
        Audit.Findings f = t.audit();
        assertThat(f.lost()).isZero();
        assertThat(f.stuck()).as("the lagging group and the generation behind it").isEqualTo(2);
        assertThat(f.problems()).containsExactly("group rlhf-reward-stream still lags by 1 records (0 allowed)");

        Topics learner = new Topics();
        learner.lags.set(2, new Audit.Lag("rlhf-learner", "learn", 33, 1));
        assertThat(learner.audit().stuck()).as("behind its offsets, every record is in its ledger").isZero();
        learner.ledger.remove(5);
        learner.ledger.remove(4);
        assertThat(learner.audit().stuck()).as("two records not trained, one allowed").isEqualTo(1);
        assertThat(learner.audit().problems()).containsExactly("group rlhf-learner still lags by 2 records (1 "
                + "allowed)");
    }

    @Test
    void aDeadLetteredPromptNeedsNoGenerations() {
        Topics t = new Topics();
        t.prompts.add(new Audit.Prompt("p9", 2, 1, 0));
        assertThat(t.audit().lost()).isEqualTo(2);
        t.dead.add(new Audit.DeadLetter(PROMPTS, 1, 0, "no conversation"));
        assertThat(t.audit().lost()).isZero();
    }
}
