package io.streamrlhf.models.world;

import io.streamrlhf.models.tokenizer.WordLevelTokenizer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The synthetic world's fixed vocabulary. Ids are dense and stable: the four special tokens come
 * first ({@code <pad>}=0, {@code <bos>}=1, {@code <eos>}=2, {@code <unk>}=3), then punctuation,
 * function words, the topic nouns topic by topic, and the sentiment-bearing words. Changing the
 * lists below changes every id, so a trained policy only fits the vocabulary it was trained with
 * (the checkpoint's vocabulary size guards against the crudest mismatch).
 *
 * <p>Text is words separated by single spaces; punctuation is a word of its own
 * ({@code "the ocean is calm ."}).
 */
public final class Vocabulary {

    /** Padding token. */
    public static final String PAD = "<pad>";
    /** Beginning of sequence. */
    public static final String BOS = "<bos>";
    /** End of sequence. */
    public static final String EOS = "<eos>";
    /** Unknown word. */
    public static final String UNK = "<unk>";

    // Special tokens whole, then words (inner apostrophes allowed), then single punctuation marks:
    // the same split as the word-level tokenizer, plus the special tokens.
    private static final Pattern PIECE =
            Pattern.compile("<[a-z]+>|[\\p{L}\\p{N}_]+(?:'[\\p{L}\\p{N}_]+)*|[^\\p{L}\\p{N}_\\s]");
    private static final Vocabulary STANDARD = buildStandard();

    private final List<Word> words;
    private final Map<String, Integer> ids;
    private final List<Topic> topics;
    private final Map<String, Topic> topicsByName;

    private Vocabulary(List<Word> words, List<Topic> topics) {
        this.words = List.copyOf(words);
        Map<String, Integer> map = new HashMap<>();
        for (int i = 0; i < words.size(); i++) {
            if (map.put(words.get(i).text(), i) != null) {
                throw new IllegalStateException("duplicate word in the synthetic vocabulary: " + words.get(i).text());
            }
        }
        this.ids = Collections.unmodifiableMap(map);
        this.topics = List.copyOf(topics);
        Map<String, Topic> byName = new LinkedHashMap<>();
        topics.forEach(t -> byName.put(t.name(), t));
        this.topicsByName = Collections.unmodifiableMap(byName);
    }

    /** The built-in world's vocabulary (the same instance every call). */
    public static Vocabulary standard() {
        return STANDARD;
    }

    /** Number of words, which is the policy's vocabulary size. */
    public int size() {
        return words.size();
    }

    /** Every word's surface form in id order (what a word-level tokenizer takes). */
    public List<String> wordList() {
        return words.stream().map(Word::text).toList();
    }

    /**
     * The word-level tokenizer of this vocabulary: same ids (its special tokens come first in the
     * same order, then these words), so policies trained on the world read its output directly.
     */
    public WordLevelTokenizer tokenizer() {
        return WordLevelTokenizer.of(wordList().subList(4, words.size()));
    }

    /** Every word in id order. */
    public List<Word> words() {
        return words;
    }

    /** The word with this id. */
    public Word word(int id) {
        if (id < 0 || id >= words.size()) {
            throw new IllegalArgumentException("token id " + id + " is outside the synthetic vocabulary [0, " + words.size() + ")");
        }
        return words.get(id);
    }

    /** The word with this surface form, if it is in the vocabulary. */
    public Optional<Word> lookup(String text) {
        Integer id = ids.get(text);
        return id == null ? Optional.empty() : Optional.of(words.get(id));
    }

    /** Id of a word, or the {@code <unk>} id when it is not in the vocabulary. */
    public int id(String text) {
        return ids.getOrDefault(text, unkId());
    }

    /** True when the word is in the vocabulary. */
    public boolean contains(String text) {
        return ids.containsKey(text);
    }

    /** Padding id (0). */
    public int padId() {
        return ids.get(PAD);
    }

    /** Beginning-of-sequence id (1). */
    public int bosId() {
        return ids.get(BOS);
    }

    /** End-of-sequence id (2). */
    public int eosId() {
        return ids.get(EOS);
    }

    /** Unknown-word id (3). */
    public int unkId() {
        return ids.get(UNK);
    }

    /** The topics, in a fixed order. */
    public List<Topic> topics() {
        return topics;
    }

    /** The topic with this name. */
    public Optional<Topic> topic(String name) {
        return Optional.ofNullable(topicsByName.get(name));
    }

    /** Words of one class, in id order. */
    public List<String> wordsOf(WordClass wordClass) {
        return words.stream().filter(w -> w.wordClass() == wordClass).map(Word::text).toList();
    }

    /** Words of one class and polarity, in id order. */
    public List<String> wordsOf(WordClass wordClass, int polarity) {
        return words.stream().filter(w -> w.wordClass() == wordClass && w.polarity() == polarity).map(Word::text).toList();
    }

    /**
     * Splits text into the world's words: lower-cased, each punctuation mark a word of its own, and
     * special tokens ({@code <eos>}) kept whole, so both {@code "the ocean is calm ."} and the
     * word-level tokenizer's decoding {@code "The ocean is calm."} give the same words.
     */
    public static List<String> split(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = PIECE.matcher(text.toLowerCase(Locale.ROOT));
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }

    /** Joins words with single spaces. */
    public static String join(List<String> words) {
        return String.join(" ", words);
    }

    /** Ids of the words; unknown words map to {@code <unk>}. */
    public int[] encode(List<String> text) {
        return text.stream().mapToInt(this::id).toArray();
    }

    /** Words of the ids, special tokens included. */
    public List<String> decode(int[] tokenIds) {
        List<String> out = new ArrayList<>(tokenIds.length);
        for (int id : tokenIds) {
            out.add(word(id).text());
        }
        return out;
    }

    /**
     * A prompt as the policy sees it: {@code <bos>} then the prompt's words (the last is {@code :},
     * after which the response starts). Every user of the world's policy encodes prompts this way.
     */
    public int[] encodePrompt(WorldPrompt prompt) {
        int[] out = new int[prompt.words().size() + 1];
        out[0] = bosId();
        for (int i = 0; i < prompt.words().size(); i++) {
            out[i + 1] = id(prompt.words().get(i));
        }
        return out;
    }

    /** A response as the policy is trained to write it: its words, then {@code <eos>}. */
    public int[] encodeResponse(List<String> response) {
        int[] out = new int[response.size() + 1];
        for (int i = 0; i < response.size(); i++) {
            out[i] = id(response.get(i));
        }
        out[response.size()] = eosId();
        return out;
    }

    /**
     * The words a model generated: cut at the first {@code <eos>}, with {@code <pad>} and
     * {@code <bos>} dropped. Other ids (including {@code <unk>}) are kept, so the gold reward sees them.
     */
    public List<String> responseWords(int[] tokenIds) {
        List<String> out = new ArrayList<>(tokenIds.length);
        for (int id : tokenIds) {
            if (id == eosId()) {
                break;
            }
            if (id != padId() && id != bosId()) {
                out.add(word(id).text());
            }
        }
        return out;
    }

    private static Vocabulary buildStandard() {
        List<Word> words = new ArrayList<>();
        for (String s : List.of(PAD, BOS, EOS, UNK)) {
            words.add(new Word(s, WordClass.SPECIAL, 0, null));
        }
        add(words, WordClass.END, 0, ".", "!");
        add(words, WordClass.COMMA, 0, ",");
        add(words, WordClass.COLON, 0, ":");
        add(words, WordClass.PROMPT, 0, "write", "about", "tell", "describe", "story", "something", "please");
        add(words, WordClass.DETERMINER, 0, "the", "a", "this", "that", "my", "our", "every");
        add(words, WordClass.PRONOUN, 0, "i", "we", "they", "people", "you");
        add(words, WordClass.COPULA, 0, "is", "are", "was", "were", "seems");
        add(words, WordClass.INTENSIFIER, 0, "very", "so", "really", "quite", "truly");
        add(words, WordClass.CONJUNCTION, 0, "and", "but");
        add(words, WordClass.PREPOSITION, 0, "in", "with", "near", "under", "at", "by");
        add(words, WordClass.LITERAL, 0, "makes", "me", "feel", "always");

        List<Topic> topics = List.of(
                new Topic("ocean", List.of("ocean", "waves", "sand", "tide", "shells", "harbor", "sailor", "reef")),
                new Topic("forest", List.of("forest", "trees", "moss", "trail", "deer", "owl", "leaves", "cabin")),
                new Topic("city", List.of("city", "streets", "traffic", "tower", "subway", "crowd", "market", "bridge")),
                new Topic("music", List.of("music", "song", "guitar", "drums", "melody", "concert", "choir", "piano")),
                new Topic("food", List.of("food", "bread", "soup", "cheese", "kitchen", "dinner", "spice", "pie")),
                new Topic("winter", List.of("winter", "snow", "ice", "frost", "sled", "fireplace", "blizzard", "mittens")),
                new Topic("school", List.of("school", "teacher", "lesson", "homework", "classroom", "exam", "chalk", "library")),
                new Topic("space", List.of("space", "stars", "planet", "rocket", "moon", "comet", "orbit", "astronaut")),
                new Topic("garden", List.of("garden", "roses", "soil", "seeds", "tulips", "bees", "fence", "shovel")),
                new Topic("sports", List.of("sports", "team", "ball", "goal", "coach", "stadium", "match", "referee")),
                new Topic("travel", List.of("travel", "train", "airport", "luggage", "map", "hotel", "passport", "journey")),
                new Topic("weather", List.of("weather", "rain", "clouds", "thunder", "sunshine", "wind", "fog", "rainbow")),
                new Topic("books", List.of("books", "novel", "author", "chapter", "poetry", "page", "plot", "hero")),
                new Topic("animals", List.of("animals", "dog", "cat", "horse", "rabbit", "parrot", "puppy", "farm")),
                new Topic("mountains", List.of("mountains", "peak", "cliff", "valley", "glacier", "climber", "summit", "rocks")),
                new Topic("technology", List.of("technology", "computer", "robot", "phone", "screen", "software", "internet", "gadget")),
                new Topic("family", List.of("family", "mother", "father", "sister", "brother", "grandmother", "home", "baby")),
                new Topic("art", List.of("art", "painting", "museum", "canvas", "artist", "sculpture", "colors", "gallery")),
                new Topic("river", List.of("river", "canoe", "stream", "dam", "frog", "fisherman", "current", "pebbles")),
                new Topic("coffee", List.of("coffee", "cafe", "mug", "beans", "espresso", "barista", "cream", "sugar")));
        for (Topic topic : topics) {
            for (String noun : topic.nouns()) {
                words.add(new Word(noun, WordClass.NOUN, 0, topic.name()));
            }
        }

        add(words, WordClass.ADJECTIVE, 1, "good", "great", "wonderful", "beautiful", "lovely", "amazing",
                "delightful", "bright", "cheerful", "pleasant", "excellent", "brilliant", "charming", "peaceful",
                "fantastic", "joyful", "happy", "gentle", "inspiring", "fresh", "perfect", "kind", "elegant", "glorious");
        add(words, WordClass.ADJECTIVE, -1, "bad", "awful", "terrible", "ugly", "boring", "dull", "gloomy",
                "horrible", "dreadful", "nasty", "sad", "miserable", "bitter", "harsh", "noisy", "dirty", "broken",
                "cruel", "rotten", "annoying", "painful", "grim", "tedious", "disappointing");
        add(words, WordClass.ADJECTIVE, 0, "old", "new", "small", "large", "tall", "quiet", "long", "round",
                "heavy", "distant", "ordinary", "plain", "busy", "simple", "wide", "early");
        add(words, WordClass.VERB, 1, "love", "enjoy", "admire", "adore", "cherish", "like", "praise",
                "celebrate", "treasure", "welcome");
        add(words, WordClass.VERB, -1, "hate", "dread", "fear", "dislike", "avoid", "resent", "loathe",
                "despise", "mock", "ignore");
        add(words, WordClass.VERB, 0, "see", "visit", "watch", "remember", "find", "know", "imagine", "meet",
                "notice", "follow");
        add(words, WordClass.ADVERB, 1, "happily", "gladly", "warmly", "proudly", "eagerly", "fondly");
        add(words, WordClass.ADVERB, -1, "sadly", "angrily", "bitterly", "reluctantly", "grimly", "wearily");
        add(words, WordClass.ADVERB, 0, "often", "sometimes", "usually", "quietly");
        return new Vocabulary(words, topics);
    }

    private static void add(List<Word> words, WordClass wordClass, int polarity, String... texts) {
        for (String text : texts) {
            words.add(new Word(text, wordClass, polarity, null));
        }
    }
}
