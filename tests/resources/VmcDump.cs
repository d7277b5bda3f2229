// Test harness for resources/receivers/unity/AnyRigVmcCore.cs: decodes datagrams from a file
// (each: int32 little-endian length, then the bytes) into one frame and prints it as lines
// "bone <wire name> <joint name> px py pz qx qy qz qw", "root ...", "scale ...", "time t".
using System;
using System.Globalization;
using System.IO;
using AnyRig.Vmc;

public static class VmcDump
{
    public static int Main(string[] argv)
    {
        var data = File.ReadAllBytes(argv[0]);
        var frame = new VmcFrame();
        int p = 0;
        while (p + 4 <= data.Length)
        {
            int n = BitConverter.ToInt32(data, p);
            var packet = new byte[n];
            Array.Copy(data, p + 4, packet, 0, n);
            VmcDecoder.Decode(packet, n, frame);
            p += 4 + n;
        }
        var inv = CultureInfo.InvariantCulture;
        foreach (var pair in frame.Bones)
        {
            var s = pair.Value;
            Console.WriteLine(string.Format(inv, "bone {0} {1} {2:R} {3:R} {4:R} {5:R} {6:R} {7:R} {8:R}", pair.Key, VmcDecoder.BoneName(pair.Key),
                s.Px, s.Py, s.Pz, s.Qx, s.Qy, s.Qz, s.Qw));
        }
        if (frame.HasRoot) Console.WriteLine(string.Format(inv, "root {0:R} {1:R} {2:R}", frame.Root.Px, frame.Root.Py, frame.Root.Pz));
        if (frame.RootScale != null) Console.WriteLine(string.Format(inv, "scale {0:R} {1:R} {2:R}", frame.RootScale[0], frame.RootScale[1], frame.RootScale[2]));
        Console.WriteLine(string.Format(inv, "time {0:R} ok {1}", frame.Time, frame.Ok));
        return 0;
    }
}
