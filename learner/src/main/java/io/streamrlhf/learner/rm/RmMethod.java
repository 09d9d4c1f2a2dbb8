package io.streamrlhf.learner.rm;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Which of Secrets of RLHF Part II's training methods a reward model is trained with. Each is a named
 * setting, off in {@link #BRADLEY_TERRY}; {@link #parse} reads the benchmark's names
 * ({@code bt}, {@code flip}, {@code smooth}, {@code margin}, {@code contrastive}, {@code meta}, joined by
 * {@code +}, e.g. {@code flip+margin}).
 *
 * @param name                   display name ({@code flip+margin})
 * @param flip                   label flipping by ensemble preference strength (Part II §3.2.1: pairs
 *                               the ensemble scores against their label are likely wrong)
 * @param flipFraction           for {@link FlipMode#WEAKEST_FRACTION}: share of pairs flipped
 * @param labelSmoothing         α of label smoothing (Part II §3.2.2): the loss is
 *                               {@code −(1−α)·log σ(Δ) − α·log σ(−Δ)}, so no pair is trusted fully
 * @param adaptiveMargin         adaptive margin (Part II §3.2.3): {@code −log σ(r_c − r_r − μ̂)} with μ̂ the
 *                               pair's ensemble preference strength, so strong pairs must be separated
 *                               more and doubtful ones less
 * @param marginScale            multiplies μ̂ in the margin
 * @param contrastiveWeight      weight λ of the SimCSE-style contrastive term (Part II §4.1): two
 *                               dropout views of each response's representation are positives, the
 *                               other responses of the batch negatives; 0 turns it off
 * @param contrastiveTemperature τ of the contrastive softmax over cosine similarities
 * @param dropout                residual dropout rate inside the trunk for the two contrastive views
 * @param metaStepSize           η of MetaRM's ascent step on the shifted distribution (Part II §4.2),
 *                               as a length in parameter space (the step is η·∇J/‖∇J‖); 0 turns MetaRM off
 * @param metaEvery              a meta step every this many training steps (when samples exist)
 */
public record RmMethod(String name, FlipMode flip, double flipFraction, double labelSmoothing, boolean adaptiveMargin,
                       double marginScale, double contrastiveWeight, double contrastiveTemperature, double dropout,
                       double metaStepSize, int metaEvery) {

    /** How pairs are chosen for flipping. */
    public enum FlipMode {
        /** No flipping. */
        NONE,
        /** Flip every pair with μ̂ &lt; 0 (the ensemble, on average, prefers the rejected response). */
        NEGATIVE_MEAN,
        /** Flip the {@code flipFraction} of pairs with the lowest μ̂. */
        WEAKEST_FRACTION
    }

    /** Default α when {@code smooth} is named without a value. */
    public static final double DEFAULT_SMOOTHING = 0.1;
    /** Default λ when {@code contrastive} is named without a value. */
    public static final double DEFAULT_CONTRASTIVE_WEIGHT = 0.1;
    /** Default η when {@code meta} is named without a value. */
    public static final double DEFAULT_META_STEP = 0.05;

    /** Plain Bradley–Terry: {@code −log σ(r_c − r_r)}, nothing else. */
    public static final RmMethod BRADLEY_TERRY = new RmMethod("bt", FlipMode.NONE, 0, 0, false, 1, 0, 0.1, 0.1, 0, 1);

    /** Checks every value and names the one that is wrong. */
    public RmMethod {
        require(name != null && !name.isBlank(), "name is required");
        require(flip != null, "flip mode is required");
        require(flipFraction >= 0 && flipFraction < 1, "flipFraction must be in [0, 1), got " + flipFraction);
        require(flip != FlipMode.WEAKEST_FRACTION || flipFraction > 0,
                "WEAKEST_FRACTION flipping needs flipFraction > 0");
        require(labelSmoothing >= 0 && labelSmoothing < 0.5, "labelSmoothing must be in [0, 0.5), got " + labelSmoothing);
        require(marginScale >= 0, "marginScale must be >= 0, got " + marginScale);
        require(contrastiveWeight >= 0, "contrastiveWeight must be >= 0, got " + contrastiveWeight);
        require(contrastiveTemperature > 0, "contrastiveTemperature must be > 0, got " + contrastiveTemperature);
        require(dropout >= 0 && dropout < 1, "dropout must be in [0, 1), got " + dropout);
        require(metaStepSize >= 0, "metaStepSize must be >= 0, got " + metaStepSize);
        require(metaEvery >= 1, "metaEvery must be >= 1, got " + metaEvery);
    }

    /** Whether the method needs the ensemble's preference strength of each training pair. */
    public boolean needsStrength() {
        return flip != FlipMode.NONE || adaptiveMargin;
    }

    /** Whether the contrastive term is on. */
    public boolean contrastive() {
        return contrastiveWeight > 0;
    }

    /** Whether MetaRM meta steps are on. */
    public boolean meta() {
        return metaStepSize > 0;
    }

    /**
     * Reads a method from its name: parts joined by {@code +}, each {@code bt}, {@code flip} (μ̂ &lt; 0),
     * {@code flip:F} (weakest fraction F), {@code smooth[:α]}, {@code margin[:scale]},
     * {@code contrastive[:λ]} or {@code meta[:η]}.
     *
     * @throws IllegalArgumentException naming the part that is not understood
     */
    public static RmMethod parse(String spec) {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("reward-model method is empty; expected e.g. bt, flip+margin");
        }
        FlipMode flip = FlipMode.NONE;
        double fraction = 0;
        double smoothing = 0;
        boolean margin = false;
        double marginScale = 1;
        double contrastive = 0;
        double meta = 0;
        List<String> names = new ArrayList<>();
        for (String raw : spec.toLowerCase(Locale.ROOT).trim().split("\\+")) {
            String part = raw.trim();
            String key = part.contains(":") ? part.substring(0, part.indexOf(':')) : part;
            String value = part.contains(":") ? part.substring(part.indexOf(':') + 1) : null;
            names.add(part);
            switch (key) {
                case "bt" -> {
                    if (value != null) {
                        throw new IllegalArgumentException("method part 'bt' takes no value, got '" + part + "'");
                    }
                }
                case "flip" -> {
                    if (value == null) {
                        flip = FlipMode.NEGATIVE_MEAN;
                    } else {
                        flip = FlipMode.WEAKEST_FRACTION;
                        fraction = number(part, value);
                    }
                }
                case "smooth" -> smoothing = value == null ? DEFAULT_SMOOTHING : number(part, value);
                case "margin" -> {
                    margin = true;
                    marginScale = value == null ? 1 : number(part, value);
                }
                case "contrastive" -> contrastive = value == null ? DEFAULT_CONTRASTIVE_WEIGHT : number(part, value);
                case "meta" -> meta = value == null ? DEFAULT_META_STEP : number(part, value);
                default -> throw new IllegalArgumentException("unknown reward-model method part '" + part + "' in '"
                        + spec + "'; known: bt, flip[:fraction], smooth[:alpha], margin[:scale], contrastive[:weight], "
                        + "meta[:step]");
            }
        }
        return new RmMethod(String.join("+", names), flip, fraction, smoothing, margin, marginScale, contrastive,
                BRADLEY_TERRY.contrastiveTemperature(), BRADLEY_TERRY.dropout(), meta, 1);
    }

    /** This method under another display name. */
    public RmMethod withName(String newName) {
        return new RmMethod(newName, flip, flipFraction, labelSmoothing, adaptiveMargin, marginScale, contrastiveWeight,
                contrastiveTemperature, dropout, metaStepSize, metaEvery);
    }

    /** This method with MetaRM meta steps every {@code every} training steps at step size {@code eta}. */
    public RmMethod withMeta(double eta, int every) {
        return new RmMethod(name, flip, flipFraction, labelSmoothing, adaptiveMargin, marginScale, contrastiveWeight,
                contrastiveTemperature, dropout, eta, every);
    }

    private static double number(String part, String value) {
        try {
            return Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("method part '" + part + "': '" + value + "' is not a number", e);
        }
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("RmMethod: " + message);
        }
    }
}
