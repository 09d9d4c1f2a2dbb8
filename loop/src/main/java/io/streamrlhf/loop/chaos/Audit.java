package io.streamrlhf.loop.chaos;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What a drained loop's topics must show, judged from what they hold ({@link TopicAudit} reads them; tests give fakes):
 * <ul>
 *   <li>every prompt has exactly its {@code samples_per_prompt} committed generations, one per group index, or was
 *       dead-lettered;</li>
 *   <li>every committed generation is scored exactly once, or dead-lettered once with a reason;</li>
 *   <li>the learner's ledger holds each generation at most once, and within each partition's range of offsets it
 *       covers, every scored record (none skipped without a dead letter);</li>
 *   <li>every feedback label gives each of its preference pairs once (a pairwise label one pair, a best-of-n label
 *       one per rejected answer, a rating one per earlier rating of its prompt: each with its own pair id);</li>
 *   <li>published versions (policy and reward model) strictly increase;</li>
 *   <li>no consumer group is left with lag beyond what it holds back by design.</li>
 * </ul>
 * Missing work counts as <em>lost</em> only where nothing is left to read: when a group still lags, its missing work
 * counts as <em>stuck</em>.
 */
public final class Audit {

    private Audit() {
    }

    /** A committed prompt and where it sits. */
    public record Prompt(String id, int samples, int partition, long offset) {
    }

    /** A committed generation and where it sits. */
    public record Generation(String id, String promptId, int groupIndex, String workerId, int partition, long offset) {
    }

    /** A committed scored record: which generation, and where it sits. */
    public record Scored(String generationId, int partition, long offset) {
    }

    /** A dead letter: the record it stands for and why. */
    public record DeadLetter(String sourceTopic, int partition, long offset, String reason) {
    }

    /** A learner ledger entry: the generation trained (or dropped) and its scored record's position. */
    public record LedgerEntry(String generationId, int partition, long offset) {
    }

    /** A preference pair: its id, and the feedback label it came from. */
    public record Preference(String pairId, String feedbackId) {
    }

    /**
     * A consumer group's lag after the drain, and how much of it the group holds back by design.
     *
     * @param kind the service of the processes in the group ({@code worker}, {@code score}, {@code learn})
     */
    public record Lag(String group, String kind, long lag, long allowed) {
    }

    /**
     * What the topics hold.
     *
     * @param promptsTopic     the prompts topic's name (dead letters name their source topic)
     * @param generationsTopic the generations topic's name
     * @param scoredTopic      the scored topic's name
     * @param policyVersions   versions per policy, in the order published
     * @param rmVersions       versions per reward model, in the order published
     */
    public record Input(String promptsTopic, String generationsTopic, String scoredTopic, List<Prompt> prompts,
                        List<Generation> generations, List<Scored> scored, List<DeadLetter> deadLetters,
                        List<LedgerEntry> ledger, List<String> feedbackIds, List<Preference> preferences,
                        Map<String, List<Long>> policyVersions, Map<String, List<Long>> rmVersions, List<Lag> lags) {
        public Input {
            Objects.requireNonNull(promptsTopic, "promptsTopic");
            Objects.requireNonNull(generationsTopic, "generationsTopic");
            Objects.requireNonNull(scoredTopic, "scoredTopic");
        }
    }

    /**
     * The verdict, each count with the first few examples.
     *
     * @param lost       work that is missing with nothing left to read
     * @param duplicated work done twice
     * @param stuck      groups still lagging, plus the work missing behind them
     * @param problems   a line per finding (at most a few per check)
     * @param dlq        dead letters per source topic
     * @param byWorker   generations per worker id
     * @param ledgerSize ledger entries read
     * @param dlqReasons dead letters per source topic and reason (ids and numbers masked, so alike reasons count
     *                   together)
     */
    public record Findings(int prompts, int generations, int scored, long lost, long duplicated, long stuck,
                           List<String> problems, Map<String, Long> dlq, Map<String, Long> byWorker, int ledgerSize,
                           int preferences, Map<String, Long> lags, Map<String, Long> dlqReasons) {
    }

    private static final int EXAMPLES = 5;

    /** Judges {@code in}. */
    public static Findings of(Input in) {
        List<String> problems = new ArrayList<>();
        long lost = 0;
        long duplicated = 0;
        long stuckWork = 0;

        Map<String, Set<String>> deadByTopic = new HashMap<>();
        Map<String, Long> dlq = new TreeMap<>();
        for (DeadLetter d : in.deadLetters()) {
            dlq.merge(d.sourceTopic(), 1L, Long::sum);
            if (d.reason() == null || d.reason().isBlank()) {
                problems.add("a dead letter of " + d.sourceTopic() + " " + d.partition() + "@" + d.offset()
                        + " gives no reason");
                lost++;
            }
        }
        Map<String, Integer> deadPositions = new HashMap<>();
        in.deadLetters().forEach(d -> deadPositions.merge(position(d.sourceTopic(), d.partition(), d.offset()), 1,
                Integer::sum));
        for (Map.Entry<String, Integer> e : deadPositions.entrySet()) {
            if (e.getValue() > 1) {
                duplicated += e.getValue() - 1;
                note(problems, "dead-lettered " + e.getValue() + " times: " + e.getKey());
            }
        }
        boolean workersLag = lagging(in.lags(), "worker");
        boolean scorersLag = lagging(in.lags(), "score");

        // prompts → generations
        Map<String, List<Generation>> byPrompt = new HashMap<>();
        in.generations().forEach(g -> byPrompt.computeIfAbsent(g.promptId(), k -> new ArrayList<>()).add(g));
        Set<String> promptIds = new HashSet<>();
        for (Prompt p : in.prompts()) {
            if (!promptIds.add(p.id())) {
                duplicated++;
                note(problems, "prompt " + p.id() + " sent twice");
                continue;
            }
            if (deadPositions.containsKey(position(in.promptsTopic(), p.partition(), p.offset()))) {
                continue;
            }
            List<Generation> group = byPrompt.getOrDefault(p.id(), List.of());
            Map<Integer, Integer> perIndex = new HashMap<>();
            group.forEach(g -> perIndex.merge(g.groupIndex(), 1, Integer::sum));
            long twice = perIndex.values().stream().mapToLong(n -> n - 1).sum();
            if (twice > 0) {
                duplicated += twice;
                note(problems, "prompt " + p.id() + ": " + twice + " group indexes generated twice");
            }
            long missing = p.samples() - perIndex.keySet().stream().filter(i -> i >= 0 && i < p.samples()).count();
            if (missing > 0) {
                if (workersLag) {
                    stuckWork += missing;
                } else {
                    lost += missing;
                    note(problems, "prompt " + p.id() + ": " + missing + " of " + p.samples()
                            + " generations missing");
                }
            }
        }

        // generations → scored or dead-lettered
        Map<String, Integer> scoredCount = new HashMap<>();
        in.scored().forEach(s -> scoredCount.merge(s.generationId(), 1, Integer::sum));
        Set<String> generationIds = new HashSet<>();
        for (Generation g : in.generations()) {
            if (!generationIds.add(g.id())) {
                duplicated++;
                note(problems, "generation id " + g.id() + " committed twice");
                continue;
            }
            int scored = scoredCount.getOrDefault(g.id(), 0);
            int dead = deadPositions.getOrDefault(position(in.generationsTopic(), g.partition(), g.offset()), 0);
            if (scored + dead > 1) {
                duplicated += scored + dead - 1;
                note(problems, "generation " + g.id() + " scored " + scored + " times and dead-lettered " + dead);
            } else if (scored + dead == 0) {
                if (scorersLag) {
                    stuckWork++;
                } else {
                    lost++;
                    note(problems, "generation " + g.id() + " neither scored nor dead-lettered");
                }
            }
        }

        // the learner's ledger
        Map<String, Integer> ledgerCount = new HashMap<>();
        in.ledger().forEach(e -> ledgerCount.merge(e.generationId(), 1, Integer::sum));
        for (Map.Entry<String, Integer> e : ledgerCount.entrySet()) {
            if (e.getValue() > 1) {
                duplicated += e.getValue() - 1;
                note(problems, "the learner's ledger holds generation " + e.getKey() + " " + e.getValue() + " times");
            }
        }
        Map<Integer, TreeSet<Long>> ledgerOffsets = new TreeMap<>();
        in.ledger().stream().filter(e -> e.offset() >= 0).forEach(e -> ledgerOffsets
                .computeIfAbsent(e.partition(), k -> new TreeSet<>()).add(e.offset()));
        for (Scored s : in.scored()) {
            TreeSet<Long> covered = ledgerOffsets.get(s.partition());
            if (covered == null || s.offset() < covered.first() || s.offset() > covered.last()
                    || covered.contains(s.offset())
                    || deadPositions.containsKey(position(in.scoredTopic(), s.partition(), s.offset()))) {
                continue;
            }
            lost++;
            note(problems, "the learner's ledger skips scored record " + s.partition() + "@" + s.offset()
                    + " (generation " + s.generationId() + ") inside the offsets it covers");
        }

        // feedback → preferences
        Map<String, Integer> perPair = new HashMap<>();
        in.preferences().forEach(p -> perPair.merge(p.pairId(), 1, Integer::sum));
        for (Map.Entry<String, Integer> e : perPair.entrySet()) {
            if (e.getValue() > 1) {
                duplicated += e.getValue() - 1;
                note(problems, "preference pair " + e.getKey() + " made " + e.getValue() + " times");
            }
        }
        Map<String, Integer> labels = new HashMap<>();
        in.feedbackIds().forEach(id -> labels.merge(id, 1, Integer::sum));
        labels.forEach((id, n) -> {
            if (n > 1) {
                note(problems, "feedback label " + id + " sent " + n + " times");
            }
        });
        duplicated += labels.values().stream().mapToLong(n -> n - 1).sum();

        // versions
        duplicated += notIncreasing("policy", in.policyVersions(), problems);
        duplicated += notIncreasing("reward model", in.rmVersions(), problems);

        // lag; a learner is judged by what it has not trained: its committed offsets are those of its checkpoint,
        // which stop before the oldest record of a group not yet trained, so records it trained can sit behind them
        Set<String> inLedger = new HashSet<>(ledgerCount.keySet());
        long untrained = in.scored().stream().filter(s -> !inLedger.contains(s.generationId())
                && !deadPositions.containsKey(position(in.scoredTopic(), s.partition(), s.offset()))).count();
        long stuckGroups = 0;
        for (Lag l : in.lags()) {
            long lag = l.kind().equals("learn") ? Math.min(l.lag(), untrained) : l.lag();
            if (lag > l.allowed()) {
                stuckGroups++;
                note(problems, "group " + l.group() + " still lags by " + lag + " records (" + l.allowed()
                        + " allowed)");
            }
        }
        Map<String, Long> byWorker = new TreeMap<>();
        in.generations().forEach(g -> byWorker.merge(g.workerId(), 1L, Long::sum));
        Map<String, Long> lags = new TreeMap<>();
        in.lags().forEach(l -> lags.put(l.group(), l.lag()));
        return new Findings(promptIds.size(), generationIds.size(), scoredCount.size(), lost, duplicated,
                stuckGroups + stuckWork, List.copyOf(problems), dlq, byWorker, in.ledger().size(),
                in.preferences().size(), lags, reasons(in.deadLetters()));
    }

    private static Map<String, Long> reasons(List<DeadLetter> deadLetters) {
        Map<String, Long> out = new TreeMap<>();
        for (DeadLetter d : deadLetters) {
            String reason = d.reason() == null ? "(none)" : d.reason()
                    .replaceAll("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<id>")
                    .replaceAll("\\d+", "<n>");
            out.merge(d.sourceTopic() + ": " + (reason.length() > 120 ? reason.substring(0, 120) + "..." : reason), 1L,
                    Long::sum);
        }
        return out;
    }

    private static long notIncreasing(String what, Map<String, List<Long>> versions, List<String> problems) {
        long bad = 0;
        for (Map.Entry<String, List<Long>> e : versions.entrySet()) {
            List<Long> v = e.getValue();
            for (int i = 1; i < v.size(); i++) {
                if (v.get(i) <= v.get(i - 1)) {
                    bad++;
                    note(problems, what + " " + e.getKey() + ": version " + v.get(i) + " published after "
                            + v.get(i - 1));
                }
            }
        }
        return bad;
    }

    private static boolean lagging(List<Lag> lags, String kind) {
        return lags.stream().anyMatch(l -> l.kind().equals(kind) && l.lag() > l.allowed());
    }

    private static String position(String topic, int partition, long offset) {
        return topic + "-" + partition + "@" + offset;
    }

    private static void note(List<String> problems, String problem) {
        if (problems.size() < 20 * EXAMPLES) {
            problems.add(problem);
        }
    }

    /** The findings as the JSON fields of a chaos report, in a stable order. */
    static Map<String, Object> fields(Findings f) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("prompts", f.prompts());
        out.put("generations", f.generations());
        out.put("scored", f.scored());
        out.put("lost", f.lost());
        out.put("duplicated", f.duplicated());
        out.put("stuck", f.stuck());
        out.put("dlq", f.dlq());
        out.put("dlq_reasons", f.dlqReasons());
        out.put("ledger_entries", f.ledgerSize());
        out.put("preferences", f.preferences());
        out.put("generations_by_worker", f.byWorker());
        out.put("lags", f.lags());
        return out;
    }
}
