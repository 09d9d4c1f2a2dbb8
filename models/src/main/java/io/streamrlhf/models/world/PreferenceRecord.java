package io.streamrlhf.models.world;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * One labelled pair of the offline preference set, as written to JSONL (snake_case field names).
 *
 * @param id             stable id within the set ("pref-000000")
 * @param prompt         the prompt's text
 * @param topic          the prompt's topic
 * @param chosen         the response the rater reported as better
 * @param rejected       the other response
 * @param chosenGold     gold reward of {@code chosen}
 * @param rejectedGold   gold reward of {@code rejected}
 * @param flipped        true when the rater's label was flipped (then {@code chosen} is the one the
 *                       Bradley–Terry draw did not prefer); kept for analysis, hidden from trainers
 *                       that play fair
 * @param preferenceProb σ((g(chosen) − g(rejected)) / τ), the unflipped probability of this label
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record PreferenceRecord(String id, String prompt, String topic, String chosen, String rejected,
                               double chosenGold, double rejectedGold, boolean flipped, double preferenceProb) {
}
