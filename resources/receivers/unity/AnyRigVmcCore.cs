// AnyRig VMC receiver core: OSC packet decoding and VMC frame assembly, with no Unity dependency
// (compiled and run by tests/resources/test_receivers.py with Mono's mcs when it is installed).
//
// What arrives (README "VMC / OSC output"): /VMC/Ext/Root/Pos s "root" fff pos ffff rot [fff scale fff offset]
// and /VMC/Ext/Bone/Pos s name fff localPos ffff localRot, already in Unity's frame (left-handed,
// Y up, +Z forward, metres; AnyRig converts from its right-handed glTF frame by mirroring X:
// position (-x, y, z), quaternion (x, -y, -z, w)). Generic streams may prefix names ("anyrig:Chest");
// BoneName() strips everything up to the last ':' so they match the rig's own transform names.
using System;
using System.Collections.Generic;
using System.Text;

namespace AnyRig.Vmc
{
    public struct BoneSample
    {
        public float Px, Py, Pz, Qx, Qy, Qz, Qw;
    }

    public sealed class VmcFrame
    {
        public readonly Dictionary<string, BoneSample> Bones = new Dictionary<string, BoneSample>();
        public BoneSample Root;
        public bool HasRoot;
        public float[] RootScale;   // v2.1: null when not sent
        public float[] RootOffset;
        public float Time = -1f;    // /VMC/Ext/T
        public bool Ok;             // /VMC/Ext/OK seen
    }

    public static class VmcDecoder
    {
        /// <summary>The joint name a bone message is for: the text after the last ':' (MOVIN-style prefixes).</summary>
        public static string BoneName(string wireName)
        {
            int cut = wireName.LastIndexOf(':');
            return cut < 0 ? wireName : wireName.Substring(cut + 1);
        }

        /// <summary>Decode one UDP datagram (an OSC message or bundle, nested bundles too) into <paramref name="frame"/>.
        /// Malformed input is ignored message by message (VMC: receivers drop what they cannot parse).</summary>
        public static void Decode(byte[] data, int length, VmcFrame frame)
        {
            DecodePacket(data, 0, length, frame);
        }

        static void DecodePacket(byte[] d, int start, int end, VmcFrame frame)
        {
            if (end - start >= 16 && d[start] == (byte)'#' && ReadString(d, start, end, out int p) == "#bundle")
            {
                p += 8; // NTP time tag
                while (p + 4 <= end)
                {
                    int size = ReadInt(d, p);
                    p += 4;
                    if (size < 0 || p + size > end) return;
                    DecodePacket(d, p, p + size, frame);
                    p += size;
                }
                return;
            }
            try { DecodeMessage(d, start, end, frame); }
            catch (IndexOutOfRangeException) { }
            catch (ArgumentException) { }
        }

        static void DecodeMessage(byte[] d, int start, int end, VmcFrame frame)
        {
            string address = ReadString(d, start, end, out int p);
            string tags = ReadString(d, p, end, out p);
            if (tags.Length == 0 || tags[0] != ',') return;
            var args = new List<object>();
            for (int i = 1; i < tags.Length; i++)
            {
                switch (tags[i])
                {
                    case 'f': args.Add(ReadFloat(d, p)); p += 4; break;
                    case 'i': args.Add(ReadInt(d, p)); p += 4; break;
                    case 's': args.Add(ReadString(d, p, end, out p)); break;
                    default: return; // a type VMC does not use
                }
            }
            if (address == "/VMC/Ext/Bone/Pos" && args.Count >= 8 && args[0] is string name && AllFloats(args, 1, 8))
            {
                frame.Bones[name] = Sample(args, 1);
            }
            else if (address == "/VMC/Ext/Root/Pos" && args.Count >= 8 && AllFloats(args, 1, 8))
            {
                frame.Root = Sample(args, 1);
                frame.HasRoot = true;
                if (args.Count >= 14 && AllFloats(args, 8, 14))
                {
                    frame.RootScale = new[] { (float)args[8], (float)args[9], (float)args[10] };
                    frame.RootOffset = new[] { (float)args[11], (float)args[12], (float)args[13] };
                }
            }
            else if (address == "/VMC/Ext/T" && args.Count >= 1 && args[0] is float t) frame.Time = t;
            else if (address == "/VMC/Ext/OK") frame.Ok = true;
        }

        static bool AllFloats(List<object> args, int from, int to)
        {
            for (int i = from; i < to; i++) if (!(args[i] is float)) return false;
            return true;
        }

        static BoneSample Sample(List<object> a, int i) => new BoneSample
        {
            Px = (float)a[i], Py = (float)a[i + 1], Pz = (float)a[i + 2],
            Qx = (float)a[i + 3], Qy = (float)a[i + 4], Qz = (float)a[i + 5], Qw = (float)a[i + 6],
        };

        static int ReadInt(byte[] d, int p) => (d[p] << 24) | (d[p + 1] << 16) | (d[p + 2] << 8) | d[p + 3];

        static float ReadFloat(byte[] d, int p)
        {
            var b = new[] { d[p + 3], d[p + 2], d[p + 1], d[p] }; // OSC is big-endian
            if (!BitConverter.IsLittleEndian) Array.Reverse(b);
            return BitConverter.ToSingle(b, 0);
        }

        static string ReadString(byte[] d, int p, int end, out int next)
        {
            int z = p;
            while (z < end && d[z] != 0) z++;
            if (z >= end) throw new ArgumentException("unterminated OSC string");
            string s = Encoding.UTF8.GetString(d, p, z - p);
            next = p + ((z - p) / 4 + 1) * 4; // padded to 4 bytes, at least one NUL
            return s;
        }
    }
}
