package io.streamrlhf.schemas.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class VerifierSpecTest {

    @Test
    void parsesKindsAndOptions() {
        VerifierSpec spec = VerifierSpec.parse(" Numeric;tolerance=0.01;extract=boxed ");
        assertThat(spec.kind()).isEqualTo("numeric");
        assertThat(spec.number("tolerance", 0)).isEqualTo(0.01);
        assertThat(spec.extract()).isEqualTo("boxed");
        assertThat(spec).hasToString("numeric;tolerance=0.01;extract=boxed");
        assertThat(VerifierSpec.parse("normalized").kind()).isEqualTo("normalised");
        assertThat(VerifierSpec.parse("exact").extract()).isEqualTo("all");
        assertThat(VerifierSpec.parse("exact;extract=pattern;pattern=(\\d+)").pattern().pattern()).isEqualTo("(\\d+)");
    }

    @Test
    void refusesWhatItCannotApplyNamingTheProblem() {
        assertThatThrownBy(() -> VerifierSpec.parse("close-enough"))
                .hasMessageContaining("unknown kind 'close-enough'");
        assertThatThrownBy(() -> VerifierSpec.parse("exact;extract=middle"))
                .hasMessageContaining("unknown extract 'middle'");
        assertThatThrownBy(() -> VerifierSpec.parse("exact;extract=pattern"))
                .hasMessageContaining("extract=pattern and pattern=REGEX go together");
        assertThatThrownBy(() -> VerifierSpec.parse("exact;extract=pattern;pattern=(oops"))
                .hasMessageContaining("pattern does not compile");
        assertThatThrownBy(() -> VerifierSpec.parse("numeric;tolerance=-1"))
                .hasMessageContaining("tolerance=-1 must be a finite number >= 0");
        assertThatThrownBy(() -> VerifierSpec.parse("numeric;tolerance=NaN"))
                .hasMessageContaining("must be a finite number");
        assertThatThrownBy(() -> VerifierSpec.parse("numeric;tolerance"))
                .hasMessageContaining("is not key=value");
        assertThatThrownBy(() -> VerifierSpec.parse("json-schema;relative=0.1"))
                .hasMessageContaining("unknown option 'relative'");
        assertThatThrownBy(() -> VerifierSpec.parse("exact;extract=all;extract=boxed"))
                .hasMessageContaining("given twice");
    }
}
