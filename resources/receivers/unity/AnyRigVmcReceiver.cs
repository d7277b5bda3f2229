// AnyRig VMC receiver for Unity: applies a VMC stream to a Generic rig's transforms by name.
//
// Use: put AnyRigVmcCore.cs and this file in Assets/, add this component to the character's root
// (the object whose children are the rig's joints, e.g. a GLB imported with UnityGLTF or glTFast,
// which convert glTF to Unity by the same X mirror AnyRig's sender uses), set the port (AnyRig:
// --vmc-generic 127.0.0.1:39539) and press Play. Every /VMC/Ext/Bone/Pos is applied to the child
// transform with that name (a "prefix:" is ignored): localRotation always, localPosition when
// applyBonePositions is on. /VMC/Ext/Root/Pos moves the root joint by the root's displacement and,
// with v2.1 arguments, sets the character's scale. A humanoid stream (--vmc) is applied the same way
// to a rig whose transforms are named like HumanBodyBones; for a Mecanim humanoid use EVMC4U.
// Listens on 127.0.0.1 only unless listenAddress is changed.
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using UnityEngine;

namespace AnyRig.Vmc
{
    public class AnyRigVmcReceiver : MonoBehaviour
    {
        public int port = 39539;
        public string listenAddress = "127.0.0.1";
        public bool applyBonePositions = true;
        public bool applyRootScale = true;

        readonly Dictionary<string, Transform> _byName = new Dictionary<string, Transform>();
        readonly object _lock = new object();
        VmcFrame _pending = new VmcFrame();
        UdpClient _client;
        Thread _thread;
        volatile bool _running;
        Transform _rootJoint;
        Vector3 _rootRest;

        void OnEnable()
        {
            _byName.Clear();
            foreach (var t in GetComponentsInChildren<Transform>(true)) if (!_byName.ContainsKey(t.name)) _byName[t.name] = t;
            _client = new UdpClient(new IPEndPoint(IPAddress.Parse(listenAddress), port));
            _running = true;
            _thread = new Thread(Listen) { IsBackground = true, Name = "AnyRig VMC" };
            _thread.Start();
        }

        void OnDisable()
        {
            _running = false;
            _client?.Close();
            _thread?.Join(200);
        }

        void Listen()
        {
            var from = new IPEndPoint(IPAddress.Any, 0);
            while (_running)
            {
                try
                {
                    byte[] data = _client.Receive(ref from);
                    lock (_lock) VmcDecoder.Decode(data, data.Length, _pending);
                }
                catch (SocketException) { }
                catch (System.ObjectDisposedException) { return; }
            }
        }

        void LateUpdate()
        {
            VmcFrame frame;
            lock (_lock) { frame = _pending; _pending = new VmcFrame(); }
            foreach (var pair in frame.Bones)
            {
                if (!_byName.TryGetValue(VmcDecoder.BoneName(pair.Key), out var t)) continue;
                var s = pair.Value;
                t.localRotation = new Quaternion(s.Qx, s.Qy, s.Qz, s.Qw);
                if (applyBonePositions) t.localPosition = new Vector3(s.Px, s.Py, s.Pz);
                if (_rootJoint == null && t.parent == transform) { _rootJoint = t; _rootRest = new Vector3(s.Px, s.Py, s.Pz); }
            }
            if (frame.HasRoot && _rootJoint != null)
                _rootJoint.localPosition = _rootRest + new Vector3(frame.Root.Px, frame.Root.Py, frame.Root.Pz);
            if (applyRootScale && frame.RootScale != null)
                transform.localScale = new Vector3(frame.RootScale[0], frame.RootScale[1], frame.RootScale[2]);
        }
    }
}
