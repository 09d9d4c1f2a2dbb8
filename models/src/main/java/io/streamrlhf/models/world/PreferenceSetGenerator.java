package io.streamrlhf.models.world;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds the offline preference set the first reward models train on: for each prompt two responses
 * from a {@link ResponseSource} (the SFT policy, or the corpus grammar), scored by the gold reward and
 * labelled by a {@link SimulatedRater} (flips included). Pairs whose two responses are identical carry
 * no preference and are skipped.
 */
public final class PreferenceSetGenerator {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final PromptGenerator prompts;
    private final ResponseSource source;
    private final GoldReward gold;
    private final SimulatedRater rater;
    private final int batchSize;

    /**
     * A generator.
     *
     * @param prompts   where prompts come from (seeded)
     * @param source    what answers them; called with up to {@code batchSize} prompts at a time
     * @param gold      the gold reward
     * @param rater     the simulated rater
     * @param batchSize prompts per call of the source
     */
    public PreferenceSetGenerator(PromptGenerator prompts, ResponseSource source, GoldReward gold,
                                  SimulatedRater rater, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("PreferenceSetGenerator: batchSize must be >= 1, got " + batchSize);
        }
        this.prompts = prompts;
        this.source = source;
        this.gold = gold;
        this.rater = rater;
        this.batchSize = batchSize;
    }

    /**
     * {@code pairs} labelled pairs.
     *
     * @throws IllegalStateException when the source keeps answering both times identically
     */
    public List<PreferenceRecord> generate(int pairs) {
        List<PreferenceRecord> out = new ArrayList<>(pairs);
        int attempts = 0;
        while (out.size() < pairs) {
            int n = Math.min(batchSize, pairs - out.size());
            attempts += n;
            if (attempts > 20L * pairs + batchSize) {
                throw new IllegalStateException("PreferenceSetGenerator: the response source gave identical "
                        + "responses too often; only " + out.size() + " of " + pairs + " pairs after " + attempts + " prompts");
            }
            List<WorldPrompt> batch = prompts.next(n);
            List<List<String>> first = source.respond(batch);
            List<List<String>> second = source.respond(batch);
            for (int i = 0; i < n && out.size() < pairs; i++) {
                if (first.get(i).equals(second.get(i))) {
                    continue;
                }
                WorldPrompt prompt = batch.get(i);
                double ga = gold.score(prompt, first.get(i)).total();
                double gb = gold.score(prompt, second.get(i)).total();
                SimulatedRater.Decision d = rater.compare(ga, gb);
                List<String> chosen = d.prefersA() ? first.get(i) : second.get(i);
                List<String> rejected = d.prefersA() ? second.get(i) : first.get(i);
                double gc = d.prefersA() ? ga : gb;
                double gr = d.prefersA() ? gb : ga;
                out.add(new PreferenceRecord(String.format("pref-%06d", out.size()), prompt.text(), prompt.topic(),
                        Vocabulary.join(chosen), Vocabulary.join(rejected), gc, gr, d.flipped(),
                        rater.preferenceProbability(gc, gr)));
            }
        }
        return out;
    }

    /** Writes records as JSON lines (UTF-8), replacing the file. */
    public static void writeJsonl(List<PreferenceRecord> records, Path file) {
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (PreferenceRecord r : records) {
                w.write(JSON.writeValueAsString(r));
                w.newLine();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write preference set " + file, e);
        }
    }

    /** Reads records written by {@link #writeJsonl}; a bad line is an error naming its line number. */
    public static List<PreferenceRecord> readJsonl(Path file) {
        List<PreferenceRecord> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while ((line = r.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                try {
                    out.add(JSON.readValue(line, PreferenceRecord.class));
                } catch (IOException e) {
                    throw new IllegalArgumentException(file + " line " + lineNo + ": not a preference record: "
                            + e.getMessage(), e);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read preference set " + file, e);
        }
        return out;
    }
}
