using SharpYaml;
using SharpYaml.Events;

namespace Gantry.Cdi;

// Duplicate mapping keys must be errors (the original decodes strictly), but SharpYaml's generated object
// readers let the last key win whatever DuplicateKeyHandling says. One pass over the parser events finds them.
internal static class YamlDuplicateKeys
{
    sealed class Frame(bool isMapping)
    {
        public bool IsMapping { get; } = isMapping;
        public bool ExpectingKey { get; set; } = true;
        public HashSet<string> Keys { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>Throws YamlException at the second occurrence of a key in the same mapping.</summary>
    public static void Check(string text)
    {
        var parser = Parser.CreateParser(new StringReader(text));
        var stack = new Stack<Frame>();
        while (parser.MoveNext())
        {
            switch (parser.Current)
            {
                // A collection used as a key is never compared; it still takes the key's turn when it ends.
                case MappingStart: stack.Push(new Frame(true)); break;
                case SequenceStart: stack.Push(new Frame(false)); break;
                case MappingEnd or SequenceEnd:
                    stack.Pop();
                    Completed(stack);
                    break;
                case Scalar s:
                    if (stack.TryPeek(out var top) && top.IsMapping && top.ExpectingKey && !top.Keys.Add(s.Value))
                        throw new YamlException(s.Start, s.End, $"duplicate key \"{s.Value}\"");
                    Completed(stack);
                    break;
                case AnchorAlias: Completed(stack); break;
            }
        }
    }

    static void Completed(Stack<Frame> stack)
    {
        if (stack.TryPeek(out var top) && top.IsMapping) top.ExpectingKey = !top.ExpectingKey;
    }
}
