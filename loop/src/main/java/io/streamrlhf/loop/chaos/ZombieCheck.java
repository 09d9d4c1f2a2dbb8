package io.streamrlhf.loop.chaos;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a chaos run's pause of the active learner found: the learner holding the lease was stopped with SIGSTOP, kept
 * stopped until the other learner had taken the lease over and published a version, then resumed with SIGCONT. The
 * resumed learner is a zombie: it still believes it leads until it polls the lease group again, and whatever it then
 * tries to publish must be fenced (the shared {@code transactional.id}).
 *
 * <p>Its publications are looked for from two sides. On {@code policy.versions}: it resumes from the version it held
 * when it was stopped, which its successor has passed, so anything it got committed is a version that does not rise
 * above every version before it ({@link #repeats}). In its own log: a learner writes {@code published <policy> version
 * N} only once the transaction of that version is committed ({@link #publishLines}).
 *
 * @param learner                the stack process paused ({@code learn-0})
 * @param pid                    its pid
 * @param atS                    seconds into the run of the SIGSTOP
 * @param pausedS                seconds from the SIGSTOP to the SIGCONT
 * @param leaseMovedS            seconds from the SIGSTOP until another learner held the lease; -1: none did
 * @param takeoverS              seconds from the SIGSTOP until a version was published after it (by the successor: the
 *                               paused learner cannot); -1: none within the recovery timeout
 * @param versionsWhilePaused    versions published while it was stopped
 * @param exitedS                seconds from the SIGCONT until the zombie's process ended (a learner that lost the
 *                               lease stops; the stack restarts it as a standby); -1: not within the recovery timeout
 * @param versionsAfterResume    versions published from the SIGCONT to the end of the watch (the successor goes on)
 * @param repeatedAfterResume    committed versions after the SIGCONT that do not rise above every version before them
 * @param publishLinesAfterResume {@code published} lines in the zombie's log between its SIGCONT and its end
 * @param lostLeaseLogged        whether its log says, after the SIGCONT, that it lost the lease or was fenced
 * @param successorLeads         whether, at the end of the watch, the learner that took over still holds the lease
 */
public record ZombieCheck(String learner, long pid, double atS, double pausedS, double leaseMovedS, double takeoverS,
                          int versionsWhilePaused, double exitedS, int versionsAfterResume, int repeatedAfterResume,
                          int publishLinesAfterResume, boolean lostLeaseLogged, boolean successorLeads) {

    /**
     * What a learner's log says when it finds it no longer leads: the lease thread saw the lease lost, the training
     * thread stopped short of a commit, or a publication was refused by fencing.
     */
    static final List<String> LOST_LEASE = List.of("was lost", "no longer holds the lease", "the lease is gone",
            "fenced by a newer leader");

    /**
     * How many publications of the zombie were found: the larger of the two sides' counts, which see the same
     * publications (a version on the topic, a line in its log). Must be 0.
     */
    public int publishedAfterResume() {
        return Math.max(repeatedAfterResume, publishLinesAfterResume);
    }

    /** Whether the other learner took over while it was stopped and it published nothing once resumed. */
    public boolean clean() {
        return takeoverS >= 0 && publishedAfterResume() == 0;
    }

    /**
     * How many of {@code versions} (in the order published) do not rise above every version before them: a repeat or a
     * step back, which only a learner publishing from an older state than its successor's can cause.
     */
    public static int repeats(List<Long> versions) {
        int repeats = 0;
        long highest = Long.MIN_VALUE;
        for (long v : versions) {
            if (v <= highest) {
                repeats++;
            }
            highest = Math.max(highest, v);
        }
        return repeats;
    }

    /**
     * The repeats among the versions published after the SIGCONT: those of {@code atEnd} beyond those already in
     * {@code atResume} (both the whole of {@code policy.versions}, read at the SIGCONT and at the end of the watch).
     */
    public static int repeatedAfter(List<Long> atResume, List<Long> atEnd) {
        return Math.max(0, repeats(atEnd) - repeats(atResume));
    }

    /** How many of {@code lines} (a learner's log) say it committed a version of {@code policy}. */
    public static int publishLines(List<String> lines, String policy) {
        String published = "- published " + policy + " version ";
        return (int) lines.stream().filter(l -> l.contains(published)).count();
    }

    /** Whether any of {@code lines} (a learner's log) says it lost the lease or was fenced. */
    public static boolean saysLeaseLost(List<String> lines) {
        return lines.stream().anyMatch(l -> LOST_LEASE.stream().anyMatch(l::contains));
    }

    /** The check as the fields of the chaos report's {@code zombie} object. */
    Map<String, Object> fields() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("learner", learner);
        out.put("pid", pid);
        out.put("at_s", round(atS));
        out.put("paused_s", round(pausedS));
        out.put("lease_moved_s", round(leaseMovedS));
        out.put("takeover_s", round(takeoverS));
        out.put("versions_while_paused", versionsWhilePaused);
        out.put("published_after_resume", publishedAfterResume());
        out.put("repeated_after_resume", repeatedAfterResume);
        out.put("publish_lines_after_resume", publishLinesAfterResume);
        out.put("lost_lease_logged", lostLeaseLogged);
        out.put("exited_s", round(exitedS));
        out.put("versions_after_resume", versionsAfterResume);
        out.put("successor_leads", successorLeads);
        return out;
    }

    private static double round(double s) {
        return Math.round(s * 10) / 10.0;
    }
}
