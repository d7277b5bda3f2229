// The few UnityEngine declarations AnyRigVmcReceiver.cs uses, with their Unity signatures, so mcs
// can type-check the MonoBehaviour where Unity is not installed. Nothing here runs.
namespace UnityEngine
{
    public class Object { public string name; }
    public class Component : Object
    {
        public Transform transform;
        public T[] GetComponentsInChildren<T>(bool includeInactive) { return new T[0]; }
    }
    public class Behaviour : Component { }
    public class MonoBehaviour : Behaviour { }
    public class Transform : Component
    {
        public Transform parent;
        public Vector3 localPosition, localScale;
        public Quaternion localRotation;
    }
    public struct Vector3
    {
        public float x, y, z;
        public Vector3(float x, float y, float z) { this.x = x; this.y = y; this.z = z; }
        public static Vector3 operator +(Vector3 a, Vector3 b) { return new Vector3(a.x + b.x, a.y + b.y, a.z + b.z); }
    }
    public struct Quaternion
    {
        public float x, y, z, w;
        public Quaternion(float x, float y, float z, float w) { this.x = x; this.y = y; this.z = z; this.w = w; }
    }
}
