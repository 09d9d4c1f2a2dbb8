package io.streamrlhf.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class AvroArraysTest {

    @Test
    void roundTripsBothWaysKeepingOrderAndValues() {
        int[] ids = {7, 0, -3, Integer.MAX_VALUE};
        assertThat(AvroArrays.ofInts(ids)).containsExactly(7, 0, -3, Integer.MAX_VALUE);
        assertThat(AvroArrays.toInts(AvroArrays.ofInts(ids))).containsExactly(ids);
        float[] logprobs = {-0.5f, Float.NEGATIVE_INFINITY, 0f, -1e-7f};
        assertThat(AvroArrays.ofFloats(logprobs)).containsExactly(-0.5f, Float.NEGATIVE_INFINITY, 0f, -1e-7f);
        assertThat(AvroArrays.toFloats(AvroArrays.ofFloats(logprobs))).containsExactly(logprobs);
        assertThat(AvroArrays.toInts(List.of())).isEmpty();
        assertThat(AvroArrays.ofFloats(new float[0])).isEmpty();
        List<Integer> copy = AvroArrays.ofInts(ids);
        copy.add(1);
        assertThat(ids).hasSize(4);
    }

    @Test
    void aMissingElementIsRefused() {
        assertThatThrownBy(() -> AvroArrays.toFloats(Arrays.asList(1f, null))).isInstanceOf(NullPointerException.class);
    }
}
