package io.streamrlhf.rewardstream.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RewardSpecTest {

    @Test
    void parsesKindTargetAndOptions() {
        RewardSpec spec = RewardSpec.parse("judge:http://localhost:8000/v1/chat/completions;model=qwen;timeout_ms=500");
        assertThat(spec.kind()).isEqualTo("judge");
        assertThat(spec.target()).isEqualTo("http://localhost:8000/v1/chat/completions");
        assertThat(spec.options()).containsExactly(Map.entry("model", "qwen"), Map.entry("timeout_ms", "500"));
        assertThat(spec.longOption("timeout_ms", 0)).isEqualTo(500);
        assertThat(spec.name("judge")).isEqualTo("judge");
        assertThat(RewardSpec.parse("rule:length;name=len").name("x")).isEqualTo("len");
    }

    @Test
    void backslashEscapesSeparatorsAndListsSplitOnUnescapedCommas() {
        List<RewardSpec> specs = RewardSpec.parseList(
                "rm:/ckpt/rm-0, rule:regex;pattern=a{1\\,3}\\;b , rule:length");
        assertThat(specs).extracting(RewardSpec::kind).containsExactly("rm", "rule", "rule");
        assertThat(specs.get(1).option("pattern", null)).isEqualTo("a{1,3};b");
        assertThat(RewardSpec.parse(specs.get(1).toString())).isEqualTo(specs.get(1));
    }

    @Test
    void rejectsWhatItCannotRead() {
        assertThatThrownBy(() -> RewardSpec.parse("length")).hasMessageContaining("KIND:TARGET");
        assertThatThrownBy(() -> RewardSpec.parse("model:/x")).hasMessageContaining("unknown kind 'model'");
        assertThatThrownBy(() -> RewardSpec.parse("rm:")).hasMessageContaining("nothing after 'rm:'");
        assertThatThrownBy(() -> RewardSpec.parse("rule:length;scale")).hasMessageContaining("not key=value");
        assertThatThrownBy(() -> RewardSpec.parse("rule:length;a=1;a=2")).hasMessageContaining("given twice");
        assertThatThrownBy(() -> RewardSpec.parseList(" , ")).hasMessageContaining("no reward source");
        assertThatThrownBy(() -> RewardSpec.parse("rule:length;scale=big").doubleOption("scale", 1))
                .hasMessageContaining("scale=big is not a number");
        assertThatThrownBy(() -> RewardSpec.parse("rule:length;sclae=2").checkOptions(Set.of("scale")))
                .hasMessageContaining("unknown option 'sclae'");
    }

    @Test
    void sourcesAreBuiltFromSpecsWithTheirOptions() {
        List<RewardSource> sources = RewardSources.createAll(RewardSpec.parseList(
                "rule:length;scale=0.5,rule:keyword;words=calm|sunny;weight=2,rule:format;check=json;penalty=-1"));
        assertThat(sources).extracting(RewardSource::name)
                .containsExactly("rule-length", "rule-keyword", "rule-format-json");
        List<ScoringInput> in = List.of(ScoringInput.of("a", "p", "a calm, sunny and CALM day"),
                ScoringInput.of("b", "p", "{\"ok\": true}"));
        assertThat(sources.get(0).score(in)).containsExactly(13.0, 6.0);
        assertThat(sources.get(1).score(in)).containsExactly(6.0, 0.0);
        assertThat(sources.get(2).score(in)).containsExactly(-1.0, 1.0);
        assertThatThrownBy(() -> RewardSources.create(RewardSpec.parse("rule:lenght")))
                .hasMessageContaining("unknown rule 'lenght'");
        assertThatThrownBy(() -> RewardSources.create(RewardSpec.parse("rule:keyword")))
                .hasMessageContaining("words=a|b|c");
        assertThatThrownBy(() -> RewardSources.create(RewardSpec.parse("rm:/no/such/dir")))
                .hasMessageContaining("/no/such/dir");
        assertThatThrownBy(() -> RewardSources.create(RewardSpec.parse(
                "judge:http://127.0.0.1:9/v1;mode=pairwise;orders=three")))
                .hasMessageContaining("orders must be both or one");
        assertThatThrownBy(() -> RewardSources.create(RewardSpec.parse("judge:http://127.0.0.1:9/v1;max_tokens=0")))
                .hasMessageContaining("max_tokens must be >= 1");
    }
}
