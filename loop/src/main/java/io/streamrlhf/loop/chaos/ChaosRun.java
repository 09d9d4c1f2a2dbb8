package io.streamrlhf.loop.chaos;

import io.streamrlhf.learner.app.LearnerConfig;
import io.streamrlhf.loop.stack.ProcessKind;
import io.streamrlhf.loop.stack.ScaleRequest;
import io.streamrlhf.loop.stack.StackPlan;
import io.streamrlhf.loop.stack.StackRunner;
import io.streamrlhf.loop.stack.StackState;
import io.streamrlhf.loop.stack.StackStatus;
import io.streamrlhf.producer.worker.WorkerConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * One chaos run on a {@link StackRunner} that runs (started by the caller, on a thread of its own): once the loop has
 * published a version, it SIGKILLs members of every kind at the times of a seeded {@link KillSchedule} and lets the
 * stack restart them; meanwhile it adds a worker and a scorer, and removes them once every killed member is back. Then it stops the prompt feed
 * and the raters, waits for the loop to drain, and audits the topics ({@link TopicAudit}, {@link Audit}).
 *
 * <p>Kills overlap, except that one cluster member (a broker or the registry) at a time is down, one learner at a time
 * is killed, and a kind is not killed again before its last killed member is back. Recovery is measured from the
 * SIGKILL until the restarted process is back at work: a service ({@code worker}, {@code score}, {@code train-rm})
 * answers {@code /health/ready}, a standby learner {@code /health/live}; after the active learner's kill a version is
 * published again (by whoever took over) and the restarted one is live; a broker or the registry says {@code ready}
 * again in its log; the feedback server has stored a label from the raters, or the prompt feed has sent a record, since
 * the restart.
 *
 * <p>At the start of the kills it also pauses the active learner with SIGSTOP, keeps it stopped until the other
 * learner holds the lease and has published a version, then resumes it with SIGCONT and watches the zombie until its
 * process ends: it must publish nothing ({@link ZombieCheck}). The pause goes first, overlapping the kills of other
 * kinds rather than lengthening the run, and while both learners are up; learner kills wait for it to end, and it for
 * them, as for any two learner kills.
 */
public final class ChaosRun {

    /**
     * What to do.
     *
     * @param window          the time within which the kills fall
     * @param kills           how many
     * @param seed            the schedule's seed
     * @param recoveryTimeout how long one killed member may take to come back before it counts as not recovered
     * @param drainTimeout    how long the loop may take to drain once the feed stopped
     * @param scale           whether to add a worker and a scorer during the run and remove them later
     * @param pause           whether to pause the active learner until the other has taken over, then resume it
     *                        (with at least two learners)
     */
    public record Options(Duration window, int kills, long seed, Duration recoveryTimeout, Duration drainTimeout,
                          boolean scale, boolean pause) {
        public Options {
            Objects.requireNonNull(window, "window");
            Objects.requireNonNull(recoveryTimeout, "recoveryTimeout");
            Objects.requireNonNull(drainTimeout, "drainTimeout");
        }
    }

    private static final Duration POLL = Duration.ofSeconds(1);
    private static final Duration START_TIMEOUT = Duration.ofMinutes(10);
    /** How long the learner gets, once the stages before it drained, to train and checkpoint what it has. */
    private static final Duration LEARNER_SETTLE = Duration.ofSeconds(15);
    /** How long a transaction's commit, asked for by a learner just before its SIGSTOP, may take to land. */
    private static final Duration COMMIT_SETTLE = Duration.ofSeconds(1);

    private final StackRunner runner;
    private final Path dir;
    private final Options options;
    private final PrintWriter log;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final List<String> added = new ArrayList<>();
    private final List<String> scaled = new ArrayList<>();
    private final long begun = System.nanoTime();
    private TopicAudit audit;
    private String policy;

    /**
     * @param runner  the stack, run by the caller on another thread (with {@code metricsPort(0)}, so that readiness
     *                can be asked)
     * @param dir     the stack's directory
     * @param options what to do
     * @param log     where people read progress
     */
    public ChaosRun(StackRunner runner, Path dir, Options options, PrintWriter log) {
        this.runner = runner;
        this.dir = dir.toAbsolutePath().normalize();
        this.options = options;
        this.log = log;
    }

    /** The kinds a stack running {@code processes} has members of. */
    public static List<ChaosKind> kindsIn(List<StackState.Process> processes) {
        List<ChaosKind> kinds = new ArrayList<>();
        long learners = processes.stream().filter(p -> p.kind().equals(ProcessKind.LEARNER.service())).count();
        for (ChaosKind k : ChaosKind.values()) {
            long n = processes.stream().filter(p -> p.kind().equals(k.process().service())).count();
            if (k == ChaosKind.STANDBY_LEARNER ? learners > 1 : n > 0) {
                kinds.add(k);
            }
        }
        return kinds;
    }

    /**
     * Runs the kills, the drain and the audit.
     *
     * @throws IllegalStateException when the stack does not start, or stops, or its loop publishes no version
     */
    public ChaosReport run() throws InterruptedException {
        awaitLoop();
        List<ChaosKind> kinds = kindsIn(runner.processes());
        KillSchedule schedule = KillSchedule.draw(options.seed(), options.window(), options.kills(), kinds);
        say("killing %d times within %d s (seed %d): %s", options.kills(), options.window().toSeconds(),
                options.seed(), schedule.byKind());
        ExecutorService watchers = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "rlhf-chaos-recovery");
            t.setDaemon(true);
            return t;
        });
        List<ChaosReport.Done> done = new ArrayList<>();
        List<Pending> pending = new ArrayList<>();
        List<CompletableFuture<Void>> scaling = new ArrayList<>();
        long t0 = System.nanoTime();
        long learners = runner.processes().stream().filter(p -> p.kind().equals(ProcessKind.LEARNER.service()))
                .count();
        CompletableFuture<ZombieCheck> pause = null;
        ZombieCheck zombie = null;
        try {
            if (options.pause() && learners > 1) {
                pause = CompletableFuture.supplyAsync(this::pauseActiveLearner, watchers);
            }
            int scaleStep = 0;
            for (KillSchedule.Kill kill : schedule.kills()) {
                scaleStep = scale(t0, kill.at(), scaleStep, scaling);
                sleepUntil(t0 + kill.at().toNanos());
                if (runner.aborted()) {
                    throw new IllegalStateException("the stack stopped during the chaos run");
                }
                for (Pending p : pending) {
                    if (conflicts(kill.kind(), p.kind) && !p.result.isDone()) {
                        await(p.result);
                    }
                }
                if (pause != null && kill.kind().process() == ProcessKind.LEARNER && !pause.isDone()) {
                    pause.join();
                }
                // a member of the kind may be restarting on its own (it crashed): it is killed once back
                Optional<StackState.Process> target = pick(kill);
                long pickDeadline = System.nanoTime() + options.recoveryTimeout().toNanos();
                while (target.isEmpty() && System.nanoTime() < pickDeadline && !runner.aborted()) {
                    Thread.sleep(POLL.toMillis());
                    target = pick(kill);
                }
                if (target.isEmpty()) {
                    say("no %s to kill now; skipped", kill.kind().key());
                    continue;
                }
                StackState.Process victim = target.get();
                Before before = before(kill.kind(), victim);
                long killedAt = System.nanoTime();
                ProcessHandle.of(victim.pid()).ifPresent(ProcessHandle::destroyForcibly);
                double atS = seconds(begun, killedAt);
                say("SIGKILL %s (%s, pid %d)", victim.name(), kill.kind().key(), victim.pid());
                CompletableFuture<Double> result = CompletableFuture.supplyAsync(
                        () -> recover(kill.kind(), victim, killedAt, before), watchers);
                pending.add(new Pending(kill.kind(), victim, atS, result));
            }
            scaleStep = scale(t0, options.window().dividedBy(2), scaleStep, scaling);
            sleepUntil(t0 + options.window().toNanos());
            for (Pending p : pending) {
                double s = await(p.result);
                done.add(new ChaosReport.Done(p.kind, p.victim.name(), p.victim.pid(), p.atS, s));
                say("%s (%s) %s", p.victim.name(), p.kind.key(), s < 0 ? "did not come back within "
                        + options.recoveryTimeout().toSeconds() + " s" : String.format(Locale.ROOT,
                        "back %.1f s after its SIGKILL", s));
            }
            if (pause != null) {
                zombie = pause.join();
            }
            // the added members leave once every killed one is back, so that they worked through the kills
            scale(t0, options.window(), scaleStep, scaling);
            for (CompletableFuture<Void> f : scaling) {
                f.join();
            }
        } finally {
            watchers.shutdownNow();
        }
        Map<String, Integer> restarts = new java.util.TreeMap<>();
        runner.processes().forEach(p -> restarts.put(p.name(), p.restarts()));
        double drainS = drain();
        Audit.Findings findings = audit();
        Map<String, List<Long>> rms = audit.rmVersions();
        long rm = rms.values().stream().mapToLong(TopicAudit::newest).max().orElse(-1);
        return new ChaosReport(options.seed(), done, List.copyOf(scaled), TopicAudit.newest(audit.published(policy)),
                rm, findings, drainS, restarts, zombie);
    }

    private record Pending(ChaosKind kind, StackState.Process victim, double atS, CompletableFuture<Double> result) {
    }

    /** What is noted just before a kill, to tell its recovery from what was there already. */
    private record Before(long readyLines, long metricsLines, long version) {
    }

    private static boolean conflicts(ChaosKind next, ChaosKind pending) {
        return next == pending || next.cluster() && pending.cluster() || next.process() == ProcessKind.LEARNER
                && pending.process() == ProcessKind.LEARNER;
    }

    /** Adds a worker and a scorer a third into the window, removes them at two thirds; returns the steps done. */
    private int scale(long t0, Duration upTo, int step, List<CompletableFuture<Void>> scaling) {
        if (!options.scale()) {
            return step;
        }
        Duration addAt = options.window().dividedBy(3);
        Duration removeAt = options.window();
        if (step == 0 && upTo.compareTo(addAt) >= 0) {
            sleepQuietly(t0 + addAt.toNanos());
            for (String kind : List.of("worker", "scorer")) {
                ScaleRequest.Answer a = runner.scale(ScaleRequest.Action.ADD, kind);
                if (!a.ok()) {
                    throw new IllegalStateException("stack add " + kind + " was refused: " + a.message());
                }
                added.add(a.name());
                scaled.add("add " + a.name());
                say("added %s", a.name());
            }
            step = 1;
        }
        if (step == 1 && upTo.compareTo(removeAt) >= 0) {
            sleepQuietly(t0 + removeAt.toNanos());
            for (String name : List.copyOf(added)) {
                // a removal waits out the process's stop grace: meanwhile the kills go on
                scaling.add(CompletableFuture.runAsync(() -> {
                    ScaleRequest.Answer a = runner.scale(ScaleRequest.Action.REMOVE, name);
                    if (!a.ok()) {
                        throw new IllegalStateException("stack remove " + name + " was refused: " + a.message());
                    }
                    synchronized (scaled) {
                        scaled.add("remove " + name);
                    }
                    say("removed %s", name);
                }));
            }
            step = 2;
        }
        return step;
    }

    private Optional<StackState.Process> pick(KillSchedule.Kill kill) {
        List<StackState.Process> candidates = runner.processes().stream()
                .filter(p -> p.kind().equals(kill.kind().process().service()) && p.alive() && p.pid() > 0
                        && !added.contains(p.name()))
                .sorted(Comparator.comparing(StackState.Process::name)).toList();
        if (kill.kind().process() == ProcessKind.LEARNER) {
            Long holder = awaitLeaseHolder();
            candidates = candidates.stream().filter(p -> (kill.kind() == ChaosKind.ACTIVE_LEARNER)
                    == Long.valueOf(p.pid()).equals(holder)).toList();
        }
        return candidates.isEmpty() ? Optional.empty()
                : Optional.of(candidates.get(kill.pick() % candidates.size()));
    }

    private Before before(ChaosKind kind, StackState.Process victim) {
        Path logFile = Path.of(victim.log());
        return new Before(lines(logFile, "ready"), lines(logFile, "metrics="),
                kind == ChaosKind.ACTIVE_LEARNER ? TopicAudit.newest(audit.published(policy)) : -1);
    }

    /** Seconds from the SIGKILL until the member is back at work; -1 when it is not within the recovery timeout. */
    private double recover(ChaosKind kind, StackState.Process victim, long killedAt, Before before) {
        long deadline = killedAt + options.recoveryTimeout().toNanos();
        Path logFile = Path.of(victim.log());
        try {
            if (!waitFor(deadline, () -> runner.processes().stream().anyMatch(p -> p.name().equals(victim.name())
                    && p.alive() && p.pid() != victim.pid()))) {
                return -1;
            }
            boolean back = switch (kind) {
                case BROKER, REGISTRY -> waitFor(deadline, () -> lines(logFile, "ready") > before.readyLines());
                case WORKER, SCORER, RM_TRAINER -> waitFor(deadline, () -> healthy(logFile, before, "ready"));
                case STANDBY_LEARNER -> waitFor(deadline, () -> healthy(logFile, before, "live"));
                case ACTIVE_LEARNER -> waitFor(deadline, () -> TopicAudit.newest(audit.published(policy))
                        > before.version()) && waitFor(deadline, () -> healthy(logFile, before, "live"));
                case FEEDBACK -> grew(deadline, audit.topics().feedback().name());
                case PROMPTS -> grew(deadline, audit.topics().prompts().name());
            };
            return back ? seconds(killedAt, System.nanoTime()) : -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /**
     * Pauses the learner holding the lease until the other has taken over, resumes it and watches it until its process
     * ends; null when no learner holds the lease.
     */
    private ZombieCheck pauseActiveLearner() {
        Long holder = awaitLeaseHolder();
        Optional<StackState.Process> active = runner.processes().stream()
                .filter(p -> p.kind().equals(ProcessKind.LEARNER.service()) && p.alive()
                        && Long.valueOf(p.pid()).equals(holder)).findFirst();
        if (active.isEmpty()) {
            say("no learner holds the lease: none paused");
            return null;
        }
        StackState.Process zombie = active.get();
        long pid = zombie.pid();
        Path logFile = Path.of(zombie.log());
        long deadline;
        long stoppedAt = System.nanoTime();
        signal("STOP", pid);
        say("SIGSTOP %s (active_learner, pid %d): stopped until the other learner has taken over", zombie.name(), pid);
        double leaseMovedS = -1;
        double takeoverS = -1;
        Long successor = null;
        List<Long> atPause;
        List<Long> atResume;
        long linesAtResume;
        long resumedAt;
        try {
            // read once a commit it had asked for just before the stop has landed: the versions after are another's
            sleepQuietly(System.nanoTime() + COMMIT_SETTLE.toNanos());
            atPause = published();
            deadline = stoppedAt + options.recoveryTimeout().toNanos();
            while (System.nanoTime() < deadline && (leaseMovedS < 0 || takeoverS < 0)
                    && !Thread.currentThread().isInterrupted()) {
                if (runner.aborted()) {
                    throw new IllegalStateException("the stack stopped during the chaos run");
                }
                if (leaseMovedS < 0) {
                    Long h = leaseHolder();
                    if (h != null && h != pid) {
                        leaseMovedS = seconds(stoppedAt, System.nanoTime());
                        successor = h;
                    }
                }
                if (takeoverS < 0 && leaseMovedS >= 0
                        && TopicAudit.newest(publishedOrEmpty()) > TopicAudit.newest(atPause)) {
                    takeoverS = seconds(stoppedAt, System.nanoTime());
                }
                sleepQuietly(System.nanoTime() + POLL.toNanos());
            }
            // read while it is still stopped: whatever comes after the SIGCONT is the successor's or the zombie's
            atResume = published();
            linesAtResume = allLines(logFile).size();
        } finally {
            // resumed whatever happened, even when the run is being cut short: a stopped process holds up its stop
            boolean interrupted = Thread.interrupted();
            signal("CONT", pid);
            resumedAt = System.nanoTime();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        double pausedS = seconds(stoppedAt, resumedAt);
        say("SIGCONT %s after %.1f s: %s", zombie.name(), pausedS, takeoverS < 0 ? "no version was published "
                + "meanwhile" : String.format(Locale.ROOT, "the lease moved after %.1f s, the next version came after "
                + "%.1f s", leaseMovedS, takeoverS));
        // the zombie's end: after it nothing it does can reach the topics; the successor publishing once more shows it
        // was not disturbed
        deadline = resumedAt + options.recoveryTimeout().toNanos();
        double exitedS = -1;
        long linesAtExit = -1;
        boolean successorWentOn = false;
        while (System.nanoTime() < deadline && (exitedS < 0 || !successorWentOn) && !runner.aborted()
                && !Thread.currentThread().isInterrupted()) {
            if (exitedS < 0 && !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                exitedS = seconds(resumedAt, System.nanoTime());
                linesAtExit = allLines(logFile).size();
            }
            successorWentOn = successorWentOn
                    || TopicAudit.newest(publishedOrEmpty()) > TopicAudit.newest(atResume);
            sleepQuietly(System.nanoTime() + POLL.toNanos());
        }
        List<Long> atEnd = published();
        List<String> lines = allLines(logFile);
        List<String> since = lines.subList((int) Math.min(linesAtResume, lines.size()),
                (int) (linesAtExit < 0 ? lines.size() : Math.min(linesAtExit, lines.size())));
        Long holderAfter = awaitLeaseHolder();
        ZombieCheck check = new ZombieCheck(zombie.name(), pid, seconds(begun, stoppedAt), pausedS, leaseMovedS,
                takeoverS, atResume.size() - atPause.size(), exitedS, atEnd.size() - atResume.size(),
                ZombieCheck.repeatedAfter(atResume, atEnd), ZombieCheck.publishLines(since, policy),
                ZombieCheck.saysLeaseLost(since), successor != null && successor.equals(holderAfter));
        say("%s resumed: published %d version(s) (%d repeated on %s, %d in its log), %s, %s", zombie.name(),
                check.publishedAfterResume(), check.repeatedAfterResume(), audit.topics().policyVersions().name(),
                check.publishLinesAfterResume(), check.lostLeaseLogged() ? "its log says it lost the lease"
                        : "its log does not say it lost the lease", exitedS < 0 ? "still running after "
                        + options.recoveryTimeout().toSeconds() + " s" : String.format(Locale.ROOT,
                        "ended %.1f s after its SIGCONT", exitedS));
        return check;
    }

    /** The committed versions of the loop's policy, read until the cluster answers (a broker may be down). */
    private List<Long> published() {
        long deadline = System.nanoTime() + options.recoveryTimeout().toNanos();
        while (true) {
            try {
                return audit.published(policy);
            } catch (RuntimeException e) {
                if (System.nanoTime() > deadline || runner.aborted()) {
                    throw new IllegalStateException("cannot read " + audit.topics().policyVersions().name() + ": "
                            + e.getMessage(), e);
                }
                sleepQuietly(System.nanoTime() + POLL.toNanos());
            }
        }
    }

    private List<Long> publishedOrEmpty() {
        try {
            return audit.published(policy);
        } catch (RuntimeException e) {
            return List.of();
        }
    }

    /** Sends SIG{@code signal} (STOP, CONT) to {@code pid} by kill(1): the JDK sends TERM and KILL only. */
    private static void signal(String signal, long pid) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true)
                    .start();
            String said = new String(kill.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -" + signal + " " + pid + " failed: " + said.trim());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run kill -" + signal + " " + pid + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted sending SIG" + signal + " to " + pid, e);
        }
    }

    private boolean grew(long deadline, String topic) throws InterruptedException {
        long at = audit.size(topic);
        return waitFor(deadline, () -> audit.size(topic) > at);
    }

    /** Whether the restarted process (a new {@code metrics=URL} line in its log) answers 200 on /health/{which}. */
    private boolean healthy(Path logFile, Before before, String which) {
        List<String> served = matching(logFile, "metrics=");
        if (served.size() <= before.metricsLines()) {
            return false;
        }
        String metrics = served.get(served.size() - 1).substring("metrics=".length());
        URI health = URI.create(metrics.replaceFirst("/metrics$", "/health/" + which));
        try {
            HttpResponse<Void> r = http.send(HttpRequest.newBuilder(health).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.discarding());
            return r.statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Stops the feed and the raters, then waits until no group lags beyond what it holds back by design. */
    private double drain() throws InterruptedException {
        say("stopping the prompt feed and the raters; draining...");
        long at = System.nanoTime();
        for (StackState.Process p : runner.processes()) {
            if (p.kind().equals(ProcessKind.PROMPTS.service()) || p.kind().equals(ProcessKind.RATERS.service())) {
                runner.stopProcess(p.name());
            }
        }
        long deadline = at + options.drainTimeout().toNanos();
        Map<String, String> groups = groups();
        Map<String, Long> allowed = allowedLag();
        List<Audit.Lag> lags = List.of();
        while (System.nanoTime() < deadline) {
            lags = audit.lags(groups, allowed);
            // the learner's lag is judged by the audit (what its ledger lacks): here only the stages before it
            if (lags.stream().filter(l -> !l.kind().equals(ProcessKind.LEARNER.service()))
                    .allMatch(l -> l.lag() <= l.allowed())) {
                Thread.sleep(LEARNER_SETTLE.toMillis());  // its last full batch trained and checkpointed
                say("drained in %.1f s: %s", seconds(at, System.nanoTime()), lags);
                return seconds(at, System.nanoTime());
            }
            Thread.sleep(2000);
        }
        say("not drained within %d s: %s", options.drainTimeout().toSeconds(), lags);
        return seconds(at, System.nanoTime());
    }

    private Audit.Findings audit() {
        StackPlan plan = runner.plan();
        Path checkpoints = Path.of(plan.configs().get(ProcessKind.LEARNER).get(LearnerConfig.CHECKPOINT_DIR));
        Audit.Findings f = Audit.of(audit.input(checkpoints, policy, groups(), allowedLag()));
        say("audit: %d prompts, %d generations, %d scored, %d ledger entries; lost %d, duplicated %d, stuck %d%s",
                f.prompts(), f.generations(), f.scored(), f.ledgerSize(), f.lost(), f.duplicated(), f.stuck(),
                f.problems().isEmpty() ? "" : "; " + String.join("; ", f.problems().stream().limit(10).toList()));
        return f;
    }

    private Map<String, String> groups() {
        Map<String, String> groups = new HashMap<>();
        runner.processes().stream().filter(p -> p.group() != null).forEach(p -> groups.put(p.group(), p.kind()));
        return groups;
    }

    /**
     * A learner trains whole batches and commits its offsets with the checkpoint of each published version: fewer
     * scored records than the batches of one publication may wait for more.
     */
    private Map<String, Long> allowedLag() {
        Map<String, String> learner = runner.plan().configs().get(ProcessKind.LEARNER);
        long batch = learner == null ? 0 : Long.parseLong(learner.getOrDefault(LearnerConfig.BATCH_SEQUENCES, "0"));
        long every = learner == null ? 1 : Long.parseLong(learner.getOrDefault(LearnerConfig.PUBLISH_EVERY, "1"));
        Map<String, Long> allowed = new HashMap<>();
        runner.processes().stream().filter(p -> p.group() != null && p.kind().equals(ProcessKind.LEARNER.service()))
                .forEach(p -> allowed.put(p.group(), batch * every));
        return allowed;
    }

    /** Waits for every process to run, the loop to publish a version and a learner to hold the lease. */
    private void awaitLoop() throws InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        if (!waitFor(deadline, runner::running)) {
            throw new IllegalStateException("the stack did not start within " + START_TIMEOUT.toMinutes() + " min");
        }
        StackPlan plan = runner.plan();
        audit = new TopicAudit(plan.bootstrap(), plan.registry(), plan.options().topicPrefix());
        policy = plan.configs().get(ProcessKind.WORKER).get(WorkerConfig.POLICY_NAME);
        say("waiting for the loop's first policy version...");
        if (!waitFor(deadline, () -> TopicAudit.newest(audit.published(policy)) >= 1)) {
            throw new IllegalStateException("the loop published no policy version within "
                    + START_TIMEOUT.toMinutes() + " min");
        }
    }

    private Long awaitLeaseHolder() {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            Long holder = leaseHolder();
            if (holder != null) {
                return holder;
            }
            sleepQuietly(System.nanoTime() + POLL.toNanos());
        }
        return null;
    }

    private Long leaseHolder() {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, runner.plan().bootstrap(),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5000, AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG,
                5000))) {
            return StackStatus.leaseHolderPid(admin, StackState.read(dir), audit.topics().learnerLease().name(),
                    Duration.ofSeconds(5));
        } catch (Exception e) {
            return null;
        }
    }

    private boolean waitFor(long deadline, BooleanSupplier done) throws InterruptedException {
        while (System.nanoTime() < deadline) {
            if (runner.aborted()) {
                throw new IllegalStateException("the stack stopped during the chaos run");
            }
            try {
                if (done.getAsBoolean()) {
                    return true;
                }
            } catch (RuntimeException e) {
                // a broker or the registry is down: ask again
            }
            Thread.sleep(POLL.toMillis());
        }
        return false;
    }

    private static double await(CompletableFuture<Double> f) {
        return f.join();
    }

    private static void sleepUntil(long nanos) throws InterruptedException {
        long wait = nanos - System.nanoTime();
        if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
        }
    }

    private static void sleepQuietly(long nanos) {
        try {
            sleepUntil(nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static long lines(Path log, String prefix) {
        return matching(log, prefix).size();
    }

    private static List<String> allLines(Path log) {
        try (Stream<String> lines = Files.lines(log, java.nio.charset.StandardCharsets.ISO_8859_1)) {
            return lines.toList();
        } catch (IOException | UncheckedIOException e) {
            return List.of();
        }
    }

    private static List<String> matching(Path log, String prefix) {
        try (Stream<String> lines = Files.lines(log, java.nio.charset.StandardCharsets.ISO_8859_1)) {
            return lines.map(String::trim).filter(l -> prefix.equals("ready") ? l.equals("ready") : l.startsWith(prefix))
                    .toList();
        } catch (IOException | UncheckedIOException e) {
            return List.of();
        }
    }

    private static double seconds(long from, long to) {
        return (to - from) / 1e9;
    }

    private void say(String format, Object... args) {
        synchronized (log) {
            log.printf("rlhf chaos: %s%n", String.format(Locale.ROOT, format, args));
            log.flush();
        }
    }
}
